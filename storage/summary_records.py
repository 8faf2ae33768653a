"""The newest timeline entries of some kinds (the catch-up summary). Never commits."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.incidents import TimelineEntry, TimelineKind
from storage.models import TimelineEventRow


class SummaryRecords:
    """Reads for `/incident summary`, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def newest(self, incident_id: int, *, kinds: Collection[TimelineKind], limit: int) -> list[TimelineEntry]:
        """The incident's newest `limit` entries of `kinds`, newest first (an index walk, not the timeline)."""
        statement = (
            select(TimelineEventRow)
            .where(
                TimelineEventRow.incident_id == incident_id, col(TimelineEventRow.kind).in_([k.value for k in kinds])
            )
            .order_by(col(TimelineEventRow.occurred_at).desc(), col(TimelineEventRow.id).desc())
            .limit(limit)
        )
        return [
            TimelineEntry(TimelineKind(r.kind), r.occurred_at, r.actor, r.text, r.source, r.permalink, r.thread_ts)
            for r in (await self._session.exec(statement)).all()
        ]
