"""captured replies in threads: a timeline entry from a reply keeps its thread's parent ts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("timeline_events") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("timeline_events") as batch:
        batch.drop_column("thread_ts")
