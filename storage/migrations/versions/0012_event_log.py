"""the event log: events, durable subscribers and their deliveries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on 0011 ignores the new tables)."""
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("id", sa.String(length=40), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("alert_group_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_events_incident_id", "events", ["incident_id"])
    op.create_table(
        "event_subscribers",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("kinds", sa.Text(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("event_seq", sa.Integer(), sa.ForeignKey("events.seq"), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("subscriber", "event_seq", name="uq_event_deliveries_subscriber_event"),
    )
    op.create_index("ix_event_deliveries_subscriber_stream", "event_deliveries", ["subscriber", "stream", "event_seq"])
    op.create_index("ix_event_deliveries_subscriber_due", "event_deliveries", ["subscriber", "due_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_event_deliveries_subscriber_due", "event_deliveries")
    op.drop_index("ix_event_deliveries_subscriber_stream", "event_deliveries")
    op.drop_table("event_deliveries")
    op.drop_table("event_subscribers")
    op.drop_index("ix_events_incident_id", "events")
    op.drop_table("events")
