"""people's contact methods, verification codes and contact attempts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: new tables only)."""
    op.create_table(
        "contact_addresses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_digest", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "method", name="uq_contact_addresses_user_method"),
    )
    op.create_table(
        "contact_rules",
        sa.Column("user_id", sa.String(length=64), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=True, unique=True),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "contact_snapshots",
        sa.Column("page_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.String(length=64), primary_key=True),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contact_attempts_turn", "contact_attempts", ["page_id", "round", "tier", "user_id", "n"])
    op.create_index("ix_contact_attempts_provider_id", "contact_attempts", ["provider_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_contact_attempts_provider_id", "contact_attempts")
    op.drop_index("ix_contact_attempts_turn", "contact_attempts")
    op.drop_table("contact_snapshots")
    op.drop_table("contact_attempts")
    op.drop_table("contact_rules")
    op.drop_table("contact_addresses")
