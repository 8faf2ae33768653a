"""an index on alert groups' incident (the alert-source bookmark looks an incident's groups up)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (additive: an index only)."""
    op.create_index("ix_alert_groups_incident_id", "alert_groups", ["incident_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_alert_groups_incident_id", table_name="alert_groups")
