"""The event log's tables: the events themselves, the subscribers that read them, and each subscriber's
deliveries still to make (claimed under a lease, deleted once handled)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class EventRow(SQLModel, table=True):
    """One event, appended in the transaction of the change it records. `seq` orders the log."""

    __tablename__ = "events"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=40, unique=True)  # evt_<32 hex>: stable, what receivers deduplicate on
    kind: str = Field(max_length=64)
    version: int
    stream: str = Field(max_length=64)  # what must stay in order: incident:<id>, page:<id>, alert:<id>
    incident_id: int | None = Field(default=None, index=True)
    reference: str | None = Field(default=None, max_length=20)
    private: bool = False
    page_id: int | None = None
    alert_group_id: int | None = None
    actor: str | None = Field(default=None, max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    data: dict[str, Any] = Field(sa_type=sa.JSON, nullable=False)


class EventSubscriberRow(SQLModel, table=True):
    """A durable subscriber: every event appended while it is registered gets a delivery for it (only the
    kinds it asked for, when `kinds` is set: `,kind,kind,`)."""

    __tablename__ = "event_subscribers"

    name: str = Field(primary_key=True, max_length=64)
    kinds: str | None = Field(default=None, sa_type=sa.Text)
    registered_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class EventDeliveryRow(SQLModel, table=True):
    """An event one subscriber has still to handle. Only the oldest of a stream is ever claimed."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("subscriber", "event_seq", name="uq_event_deliveries_subscriber_event"),
        sa.Index("ix_event_deliveries_subscriber_stream", "subscriber", "stream", "event_seq"),
        sa.Index("ix_event_deliveries_subscriber_due", "subscriber", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber: str = Field(max_length=64)
    event_seq: int = Field(foreign_key="events.seq")
    stream: str = Field(max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    claim: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
