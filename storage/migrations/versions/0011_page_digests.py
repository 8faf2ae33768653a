"""page digests: in a storm, one DM gathers the pages a person gets

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on 0010 ignores the new table and column)."""
    op.create_table(
        "page_digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
    )
    op.create_index("ix_page_digests_user_id", "page_digests", ["user_id"])
    op.create_index("ix_page_digests_ts", "page_digests", ["ts"])
    with op.batch_alter_table("page_notifications") as batch:
        batch.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_page_notifications_digest", "page_digests", ["digest_id"], ["id"])
        batch.create_index("ix_page_notifications_digest_id", ["digest_id"])
        batch.create_index("ix_page_notifications_user_sent", ["user_id", "sent_at"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("page_notifications") as batch:
        batch.drop_index("ix_page_notifications_user_sent")
        batch.drop_index("ix_page_notifications_digest_id")
        batch.drop_constraint("fk_page_notifications_digest", type_="foreignkey")
        batch.drop_column("digest_id")
    op.drop_index("ix_page_digests_ts", "page_digests")
    op.drop_index("ix_page_digests_user_id", "page_digests")
    op.drop_table("page_digests")
