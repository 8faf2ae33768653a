"""runbooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "runbook_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("runbook", sa.String(length=100), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "runbook", "part", name="uq_runbook_post_part"),
    )
    with op.batch_alter_table("runbook_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runbook_posts_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "runbook_ticks",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("runbook", sa.String(length=100), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("ticked_by", sa.String(length=32), nullable=False),
        sa.Column("ticked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("incident_id", "runbook", "step"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("runbook_ticks")
    with op.batch_alter_table("runbook_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_posts_incident_id"))

    op.drop_table("runbook_posts")
