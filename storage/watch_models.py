"""The tables of heartbeats and maintenance windows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class HeartbeatRow(SQLModel, table=True):
    """A heartbeat the policy names: since when Tocsin knows it, its last beat, whether it is missed
    (`generation`: how many times it was, which names each miss's deadline job)."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True, max_length=100)
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    missed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    generation: int = 0


class MaintenanceWindowRow(SQLModel, table=True):
    """A maintenance window: made from Slack (`created_by`), or one occurrence of a recurring window of the
    policy (`recurring_key`, one row per occurrence); `ended_at` when ended early."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (
        sa.Index("ix_maintenance_windows_service_ends", "service", "ends_at"),
        sa.Index("ix_maintenance_windows_ends", "ends_at"),
        sa.UniqueConstraint("recurring_key", "starts_at", name="uq_maintenance_windows_occurrence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=100)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    reason: str = Field(default="", max_length=500)
    created_by: str | None = Field(default=None, max_length=64)
    recurring_key: str | None = Field(default=None, max_length=64)
    declares_page: bool = True
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
