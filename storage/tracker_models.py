"""The trackers' tables: each follow-up's issue (where, its key and link, its state as last known, and
the polling fallback's leased timer), and the inbound webhook deliveries already handled."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class FollowUpIssueRow(SQLModel, table=True):
    """A follow-up's issue in a tracker, or (with an empty `issue_id`) the tracker's refusal to make it.
    `poll_at` is when the polling fallback next asks for its state (null once closed), leased by `claim`."""

    __tablename__ = "follow_up_issues"
    __table_args__ = (sa.Index("ix_follow_up_issues_tracker_issue", "tracker", "issue_id"),)

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_ups.id", unique=True)
    tracker: str = Field(max_length=64)
    issue_id: str = Field(max_length=128)
    key: str = Field(max_length=64)
    url: str = Field(max_length=500)
    state: str = Field(max_length=10)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    failed_reason: str | None = Field(default=None, max_length=200)
    poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)
    claim: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class TrackerDeliveryRow(SQLModel, table=True):
    """An inbound tracker webhook delivery already handled (the tracker's delivery id; replicas share it)."""

    __tablename__ = "tracker_deliveries"

    tracker: str = Field(primary_key=True, max_length=64)
    delivery_id: str = Field(primary_key=True, max_length=128)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
