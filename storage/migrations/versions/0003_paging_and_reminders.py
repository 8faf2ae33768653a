"""paging and reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("next_step_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_next_step_at"), ["next_step_at"], unique=False)

    op.create_table(
        "page_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("page_id", "round", "tier", "user_id", name="uq_page_step_user"),
    )
    with op.batch_alter_table("page_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_notifications_page_id"), ["page_id"], unique=False)

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reminder_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("reminder_claim", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("reminder_claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f("ix_incidents_next_update_due"))
        batch_op.create_index(batch_op.f("ix_incidents_reminder_at"), ["reminder_at"], unique=False)
    # Open incidents keep their reminders: the timer starts at the update already due.
    op.execute(
        "UPDATE incidents SET reminder_at = next_update_due "
        "WHERE next_update_due IS NOT NULL AND status NOT IN ('resolved', 'closed')"
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_reminder_at"))
        batch_op.create_index(batch_op.f("ix_incidents_next_update_due"), ["next_update_due"], unique=False)
        batch_op.drop_column("reminder_claimed_until")
        batch_op.drop_column("reminder_claim")
        batch_op.drop_column("reminders_sent")
        batch_op.drop_column("reminder_at")
        batch_op.drop_column("service")

    with op.batch_alter_table("page_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_notifications_page_id"))

    op.drop_table("page_notifications")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pages_next_step_at"))
        batch_op.drop_index(batch_op.f("ix_pages_incident_id"))

    op.drop_table("pages")
