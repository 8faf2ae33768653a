"""Where each incident's postmortem draft was published. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PostmortemRow


class PostmortemRecords:
    """Postmortem publications, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def latest(self, incident_id: int) -> tuple[str, str, int] | None:
        """Where the incident's draft was published: (kind, Slack ID, version)."""
        row = (
            await self._session.exec(select(PostmortemRow).where(col(PostmortemRow.incident_id) == incident_id))
        ).first()
        return (row.kind, row.slack_id, row.version) if row else None

    async def published(self, incident_id: int, *, kind: str, slack_id: str, version: int, now: datetime) -> None:
        """Remember the latest publication of the draft."""
        row = await self._session.get(PostmortemRow, incident_id)
        if row is None:
            self._session.add(
                PostmortemRow(incident_id=incident_id, kind=kind, slack_id=slack_id, version=version, published_at=now)
            )
        else:
            row.kind, row.slack_id, row.version, row.published_at = kind, slack_id, version, now
            self._session.add(row)
