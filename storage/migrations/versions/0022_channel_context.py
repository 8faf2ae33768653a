"""bookmarks kept in incident channels, channel archives and continuations; alert groups' links

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: a replica still on the previous revision ignores the new tables)."""
    op.create_table(
        "channel_bookmarks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("bookmark_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=False),
        sa.UniqueConstraint("channel_id", "kind", "key", name="uq_channel_bookmark"),
    )
    op.create_index("ix_channel_bookmarks_incident_id", "channel_bookmarks", ["incident_id"])
    op.create_table(
        "incident_channels",
        sa.Column("channel_id", sa.String(length=32), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("archive_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warning_ts", sa.String(length=32), nullable=True),
        sa.Column("kept_by", sa.String(length=64), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("continued_in", sa.String(length=32), nullable=True),
        sa.Column("bookmarks_refused", sa.String(length=100), nullable=True),
    )
    op.create_index("ix_incident_channels_incident_id", "incident_channels", ["incident_id"])
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:  # the lead alert's link, bookmarked
        batch_op.add_column(sa.Column("url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.drop_column("url")
    op.drop_index("ix_incident_channels_incident_id", "incident_channels")
    op.drop_table("incident_channels")
    op.drop_index("ix_channel_bookmarks_incident_id", "channel_bookmarks")
    op.drop_table("channel_bookmarks")
