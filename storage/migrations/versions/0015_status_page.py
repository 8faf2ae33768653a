"""the status page: published incidents, their public updates, and their Statuspage copies

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on the previous revision ignores the new tables)."""
    op.create_table(
        "public_incidents",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("public_id", sa.String(length=16), nullable=False, unique=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_public_incidents_status_updated", "public_incidents", ["status", "updated_at"])
    op.create_table(
        "public_updates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_by", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_public_updates_incident_id", "public_updates", ["incident_id"])
    op.create_table(
        "statuspage_incidents",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("page_id", sa.String(length=64), primary_key=True),
        sa.Column("statuspage_id", sa.String(length=64), nullable=False),
        sa.Column("last_update_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("statuspage_incidents")
    op.drop_index("ix_public_updates_incident_id", "public_updates")
    op.drop_table("public_updates")
    op.drop_index("ix_public_incidents_status_updated", "public_incidents")
    op.drop_table("public_incidents")
