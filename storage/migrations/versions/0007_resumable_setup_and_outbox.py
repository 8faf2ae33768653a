"""resumable declares and the outbox of posts Slack refused for now

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.add_column(sa.Column("setup_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("setup_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("setup_claim", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("setup_claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_setup_at"), ["setup_at"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=True),
        sa.Column("author", sa.String(length=32), nullable=True),
        sa.Column("marker", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(length=100), nullable=True),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_due_at", "outbox", ["due_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_outbox_due_at", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_setup_at"))
        batch_op.drop_column("setup_claimed_until")
        batch_op.drop_column("setup_claim")
        batch_op.drop_column("setup_attempts")
        batch_op.drop_column("setup_at")
