"""The tables of bookmarks kept in incident channels, archives and continuation channels."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class ChannelBookmarkRow(SQLModel, table=True):
    """A bookmark Tocsin made in an incident's channel: what it stands for (kind, key) and Slack's id."""

    __tablename__ = "channel_bookmarks"
    __table_args__ = (sa.UniqueConstraint("channel_id", "kind", "key", name="uq_channel_bookmark"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    channel_id: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    key: str = Field(max_length=200)
    bookmark_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    link: str = Field(max_length=2000)


class IncidentChannelRow(SQLModel, table=True):
    """A channel an incident had: its archive's countdown, warning, keeping and archiving, and the
    continuation it led to."""

    __tablename__ = "incident_channels"

    channel_id: str = Field(max_length=32, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    name: str = Field(max_length=80)
    archive_due: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    warning_ts: str | None = Field(default=None, max_length=32)
    kept_by: str | None = Field(default=None, max_length=64)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    continued_in: str | None = Field(default=None, max_length=32)
    bookmarks_refused: str | None = Field(default=None, max_length=100)
