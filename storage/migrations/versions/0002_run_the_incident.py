"""run the incident

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "home_viewers",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "message_captures",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("incident_id", "source", "reason"),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_topic", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("identified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("mitigated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution_summary", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("customer_impact", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("cause", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_update_due", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_next_update_due"), ["next_update_due"], unique=False)

    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("permalink", sa.String(length=500), nullable=True))
        batch_op.create_unique_constraint("uq_timeline_incident_source", ["incident_id", "source"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_timeline_incident_source", type_="unique")
        batch_op.drop_column("permalink")
        batch_op.drop_column("source")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_next_update_due"))
        batch_op.drop_column("next_update_due")
        batch_op.drop_column("last_update_at")
        batch_op.drop_column("cause")
        batch_op.drop_column("customer_impact")
        batch_op.drop_column("resolution_summary")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("mitigated_at")
        batch_op.drop_column("identified_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("channel_topic")

    op.drop_table("message_captures")
    op.drop_table("processed_events")
    op.drop_table("home_viewers")
