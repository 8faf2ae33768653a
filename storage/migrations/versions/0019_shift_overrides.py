"""overrides and swaps made from Slack, their audit list, and calendar feed tokens

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision (additive: new tables only)."""
    op.create_table(
        "shift_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("user", sa.String(length=254), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("replaces", sa.String(length=254), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        _when("created_at"),
        _when("removed_at", nullable=True),
        sa.Column("removed_by", sa.String(length=32), nullable=True),
    )
    op.create_index("ix_shift_overrides_schedule_ends", "shift_overrides", ["schedule", "ends_at"])
    op.create_table(
        "shift_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("asked", sa.String(length=32), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        _when("their_starts_at", nullable=True),
        _when("their_ends_at", nullable=True),
        sa.Column("from_now", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        _when("created_at"),
        _when("decided_at", nullable=True),
        sa.Column("dm_channel", sa.String(length=32), nullable=True),
        sa.Column("dm_ts", sa.String(length=32), nullable=True),
    )
    op.create_index("ix_shift_requests_asked_state", "shift_requests", ["asked", "state"])
    op.create_table(
        "shift_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        _when("at"),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("user", sa.String(length=254), nullable=True),
        sa.Column("other", sa.String(length=254), nullable=True),
        _when("starts_at", nullable=True),
        _when("ends_at", nullable=True),
        sa.Column("override_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_shift_log_schedule", "shift_log", ["schedule", "id"])
    op.create_table(
        "calendar_tokens",
        sa.Column("scope", sa.String(length=120), primary_key=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        _when("created_at"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("calendar_tokens")
    op.drop_index("ix_shift_log_schedule", "shift_log")
    op.drop_table("shift_log")
    op.drop_index("ix_shift_requests_asked_state", "shift_requests")
    op.drop_table("shift_requests")
    op.drop_index("ix_shift_overrides_schedule_ends", "shift_overrides")
    op.drop_table("shift_overrides")
