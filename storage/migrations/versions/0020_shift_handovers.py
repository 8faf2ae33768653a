"""handover notes, handoffs seen per schedule, round-robin turns and user-group syncs

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on the previous revision ignores the new tables)."""
    op.create_table(
        "handover_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handover_notes_schedule_at", "handover_notes", ["schedule", "created_at"])
    op.create_table(
        "shift_holders",
        sa.Column("schedule", sa.String(length=100), primary_key=True),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "round_robin_turns",
        sa.Column("tier_key", sa.String(length=255), primary_key=True),
        sa.Column("turns", sa.Integer(), nullable=False),
    )
    op.create_table(
        "round_robin_picks",
        sa.Column("page_id", sa.Integer(), sa.ForeignKey("pages.id"), primary_key=True),
        sa.Column("tier", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
    )
    op.create_table(
        "usergroup_syncs",
        sa.Column("schedule", sa.String(length=100), primary_key=True),
        sa.Column("usergroup", sa.String(length=100), nullable=False),
        sa.Column("users", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("usergroup_syncs")
    op.drop_table("round_robin_picks")
    op.drop_table("round_robin_turns")
    op.drop_table("shift_holders")
    op.drop_index("ix_handover_notes_schedule_at", "handover_notes")
    op.drop_table("handover_notes")
