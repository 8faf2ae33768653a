"""indexes for a long history: open incidents, incidents in a window, a timeline page in order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_incidents_team_status", "incidents", ["team_id", "status"])
    op.create_index("ix_incidents_team_declared_at", "incidents", ["team_id", "declared_at"])
    op.create_index("ix_timeline_events_incident_time", "timeline_events", ["incident_id", "occurred_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_timeline_events_incident_time", table_name="timeline_events")
    op.drop_index("ix_incidents_team_declared_at", table_name="incidents")
    op.drop_index("ix_incidents_team_status", table_name="incidents")
