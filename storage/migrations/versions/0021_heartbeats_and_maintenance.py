"""heartbeats and maintenance windows

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on the previous revision ignores the new tables)."""
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("recurring_key", sa.String(length=64), nullable=True),
        sa.Column("declares_page", sa.Boolean(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("recurring_key", "starts_at", name="uq_maintenance_windows_occurrence"),
    )
    op.create_index("ix_maintenance_windows_service_ends", "maintenance_windows", ["service", "ends_at"])
    op.create_index("ix_maintenance_windows_ends", "maintenance_windows", ["ends_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_maintenance_windows_ends", "maintenance_windows")
    op.drop_index("ix_maintenance_windows_service_ends", "maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_table("heartbeats")
