"""The tables of related incidents: the links people made (stored both ways) and what each incident is keyed
by (its service, alert group and identifying labels). The full-text index over incidents is not a model:
migration 0023 builds it per database (SQLite FTS5 `incidents_fts`, PostgreSQL `incidents_fts`'s tsvector)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime

FULL_TEXT = "incidents_fts"  # the full-text objects' names start with it (tables, triggers, function, index)


class IncidentLinkRow(SQLModel, table=True):
    """Two incidents someone said are related: one row each way, so either one's links are one look-up."""

    __tablename__ = "incident_links"

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    other_id: int = Field(foreign_key="incidents.id", primary_key=True)
    linked_by: str = Field(max_length=64)
    linked_at: datetime = cast(datetime, Field(sa_type=UTCDateTime, nullable=False))


class IncidentKeyRow(SQLModel, table=True):
    """One thing an incident is keyed by (`service:…`, `group:…`, `label:name=value`): incidents sharing a
    key are found by it, newest first."""

    __tablename__ = "incident_keys"
    __table_args__ = (sa.Index("ix_incident_keys_incident", "incident_id"),)

    team_id: str = Field(max_length=32, primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
