"""The scheduled jobs' table (bot/domain/jobs.py): one row per planned job, kept once finished so that its
key is never planned twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class JobRow(SQLModel, table=True):
    """A job: due at `due_at` until `done_at` is set; claimed by a runner's `claim` until `claimed_until`."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_pending_due", "done_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    key: str = Field(max_length=200, unique=True)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    attempts: int = 0
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    outcome: str | None = Field(default=None, max_length=200)
    claim: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
