"""The tables of overrides and swaps made from Slack, their audit list, calendar feed tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime

USER = 254  # a user as the policy may name one (an ID, or an e-mail address)
SCHEDULE = 100


class ShiftOverrideRow(SQLModel, table=True):
    """An override made from Slack, kept once removed (`removed_at`) for the audit list."""

    __tablename__ = "shift_overrides"
    __table_args__ = (sa.Index("ix_shift_overrides_schedule_ends", "schedule", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule: str = Field(max_length=SCHEDULE)
    user: str = Field(max_length=USER)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    via: str = Field(max_length=8)
    replaces: str | None = Field(default=None, max_length=USER)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    removed_by: str | None = Field(default=None, max_length=32)


class ShiftRequestRow(SQLModel, table=True):
    """A give or swap waiting for (or given) the other person's answer."""

    __tablename__ = "shift_requests"
    __table_args__ = (sa.Index("ix_shift_requests_asked_state", "asked", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule: str = Field(max_length=SCHEDULE)
    kind: str = Field(max_length=8)
    requester: str = Field(max_length=32)
    asked: str = Field(max_length=32)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    their_starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    their_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    from_now: bool = False
    state: str = Field(max_length=12)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    dm_channel: str | None = Field(default=None, max_length=32)
    dm_ts: str | None = Field(default=None, max_length=32)


class ShiftLogRow(SQLModel, table=True):
    """One line of the on-call audit list."""

    __tablename__ = "shift_log"
    __table_args__ = (sa.Index("ix_shift_log_schedule", "schedule", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule: str = Field(max_length=SCHEDULE)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=16)
    user: str | None = Field(default=None, max_length=USER)
    other: str | None = Field(default=None, max_length=USER)
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    override_id: int | None = None
    request_id: int | None = None


class CalendarTokenRow(SQLModel, table=True):
    """The secret in a calendar feed's URL, per scope (`schedule:<name>` or `user:<id>`); rotating replaces it."""

    __tablename__ = "calendar_tokens"

    scope: str = Field(primary_key=True, max_length=120)
    token: str = Field(max_length=64)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
