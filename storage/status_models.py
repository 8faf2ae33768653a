"""The status page's tables: which incidents are published (their public id and title, and where their
public updates stand), the public updates themselves, and each incident's copy on an Atlassian
Statuspage page (the mirror)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class PublicIncidentRow(SQLModel, table=True):
    """A published incident: its first public update put it on the status page. `status` and
    `updated_at` are its newest public update's (so the page reads its incidents in one query)."""

    __tablename__ = "public_incidents"
    __table_args__ = (sa.Index("ix_public_incidents_status_updated", "status", "updated_at"),)

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    public_id: str = Field(max_length=16, unique=True)  # random: the page never shows an INC number
    title: str = Field(max_length=200)
    status: str = Field(max_length=20)
    published_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class PublicUpdateRow(SQLModel, table=True):
    """One public update, in the words customers read."""

    __tablename__ = "public_updates"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    status: str = Field(max_length=20)
    body: str = Field(sa_type=sa.Text)
    posted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    posted_by: str | None = Field(default=None, max_length=64)


class StatuspageIncidentRow(SQLModel, table=True):
    """An incident's copy on an Atlassian Statuspage page, and the newest public update sent to it."""

    __tablename__ = "statuspage_incidents"

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    page_id: str = Field(max_length=64, primary_key=True)
    statuspage_id: str = Field(max_length=64)
    last_update_id: int
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
