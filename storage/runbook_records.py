"""Queries over runbook messages and ticks. Never commits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core_sql import dialect_insert
from storage.models import RunbookPostRow, RunbookTickRow


class RunbookRecords:
    """Posted runbook messages and ticked steps, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def posted(self, incident_id: int) -> dict[str, list[tuple[str, str]]]:
        """Runbook name → its messages' (channel, ts), in part order."""
        statement = (
            select(RunbookPostRow)
            .where(RunbookPostRow.incident_id == incident_id)
            .order_by(col(RunbookPostRow.runbook), col(RunbookPostRow.part))
        )
        found: dict[str, list[tuple[str, str]]] = {}
        for row in (await self._session.exec(statement)).all():
            found.setdefault(row.runbook, []).append((row.channel, row.ts))
        return found

    async def remember_post(self, incident_id: int, runbook: str, parts: list[tuple[str, str]]) -> bool:
        """Remember the messages a runbook was posted as; False if it was already posted (a race)."""
        inserted = False
        for part, (channel, ts) in enumerate(parts):
            result = await self._session.exec(
                dialect_insert(self._session, RunbookPostRow)
                .values(incident_id=incident_id, runbook=runbook, part=part, channel=channel, ts=ts)
                .on_conflict_do_nothing()
            )
            inserted = inserted or bool(result.rowcount)
        return inserted

    async def ticked(self, incident_id: int, runbook: str) -> set[str]:
        """The ticked steps of a runbook."""
        statement = select(RunbookTickRow.step).where(
            RunbookTickRow.incident_id == incident_id, RunbookTickRow.runbook == runbook
        )
        return set((await self._session.exec(statement)).all())

    async def tick(self, incident_id: int, runbook: str, step: str, *, user_id: str, now: datetime) -> bool:
        """Tick a step; False when it was already ticked (someone else was first)."""
        result = await self._session.exec(
            dialect_insert(self._session, RunbookTickRow)
            .values(incident_id=incident_id, runbook=runbook, step=step, ticked_by=user_id, ticked_at=now)
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)

    async def untick(self, incident_id: int, runbook: str, step: str) -> bool:
        """Untick a step; False when it was not ticked."""
        result = await self._session.exec(
            sa.delete(RunbookTickRow).where(
                col(RunbookTickRow.incident_id) == incident_id,
                col(RunbookTickRow.runbook) == runbook,
                col(RunbookTickRow.step) == step,
            )
        )
        return bool(result.rowcount)
