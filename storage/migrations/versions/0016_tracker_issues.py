"""trackers: follow-ups' issues (with the polling fallback's leased timer) and inbound deliveries handled

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on the previous revision ignores the new tables)."""
    op.create_table(
        "follow_up_issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("follow_up_id", sa.Integer(), sa.ForeignKey("follow_ups.id"), nullable=False, unique=True),
        sa.Column("tracker", sa.String(length=64), nullable=False),
        sa.Column("issue_id", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_reason", sa.String(length=200), nullable=True),
        sa.Column("poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_follow_up_issues_tracker_issue", "follow_up_issues", ["tracker", "issue_id"])
    op.create_index("ix_follow_up_issues_poll_at", "follow_up_issues", ["poll_at"])
    op.create_table(
        "tracker_deliveries",
        sa.Column("tracker", sa.String(length=64), primary_key=True),
        sa.Column("delivery_id", sa.String(length=128), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tracker_deliveries_received_at", "tracker_deliveries", ["received_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tracker_deliveries_received_at", "tracker_deliveries")
    op.drop_table("tracker_deliveries")
    op.drop_index("ix_follow_up_issues_poll_at", "follow_up_issues")
    op.drop_index("ix_follow_up_issues_tracker_issue", "follow_up_issues")
    op.drop_table("follow_up_issues")
