"""Queries over follow-ups (their reminder timer is claimed and recorded in storage/timer_records.py). Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.follow_ups import FollowUp, NewFollowUp
from storage.models import FollowUpRow, IncidentRow
from storage.tracker_models import FollowUpIssueRow


class FollowUpRecords:
    """Follow-ups within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def add(
        self, incident_id: int, item: NewFollowUp, *, by: str, now: datetime, remind_at: datetime | None
    ) -> int:
        """Store a new follow-up; returns its id."""
        row = FollowUpRow(
            incident_id=incident_id,
            text=item.text,
            owner=item.owner,
            due_on=item.due_on,
            created_by=by,
            created_at=now,
            remind_at=remind_at,
        )
        self._session.add(row)
        await self._session.flush()
        assert row.id is not None
        return row.id

    async def get(self, follow_up_id: int) -> FollowUp | None:
        """One follow-up."""
        found = await self._query(col(FollowUpRow.id) == follow_up_id)
        return found[0] if found else None

    async def of_incident(self, incident_id: int) -> list[FollowUp]:
        """An incident's follow-ups, oldest first."""
        return await self._query(col(FollowUpRow.incident_id) == incident_id)

    async def open_ones(self, team_id: str, *, owner: str | None = None, limit: int = 200) -> list[FollowUp]:
        """Open follow-ups in a workspace (of one owner), soonest due first."""
        where = [col(FollowUpRow.done_at).is_(None), col(IncidentRow.team_id) == team_id]
        if owner is not None:
            where.append(col(FollowUpRow.owner) == owner)
        return await self._query(*where, limit=limit)

    async def mark_done(self, follow_up_id: int, *, by: str, now: datetime) -> bool:
        """Close a follow-up and stop its reminders; False when it was already done."""
        result = await self._session.exec(
            sa.update(FollowUpRow)
            .where(col(FollowUpRow.id) == follow_up_id, col(FollowUpRow.done_at).is_(None))
            .values(done_at=now, done_by=by, remind_at=None, claim=None, claimed_until=None)
        )
        return bool(result.rowcount)

    async def reopen(self, follow_up_id: int, *, due: datetime | None) -> bool:
        """Open a done follow-up again (reminded again from `due`); False when it was open."""
        result = await self._session.exec(
            sa.update(FollowUpRow)
            .where(col(FollowUpRow.id) == follow_up_id, col(FollowUpRow.done_at).is_not(None))
            .values(done_at=None, done_by=None, remind_at=due)
        )
        return bool(result.rowcount)

    async def _query(self, *where: sa.ColumnElement[bool], limit: int | None = None) -> list[FollowUp]:
        made = sa.and_(col(FollowUpIssueRow.follow_up_id) == col(FollowUpRow.id), col(FollowUpIssueRow.issue_id) != "")
        statement = (
            select(FollowUpRow, IncidentRow.number, FollowUpIssueRow.key, FollowUpIssueRow.url)
            .join(IncidentRow, col(IncidentRow.id) == col(FollowUpRow.incident_id))
            .outerjoin(FollowUpIssueRow, made)
            .where(*where)
            .order_by(col(FollowUpRow.due_on).is_(None), col(FollowUpRow.due_on), col(FollowUpRow.id))
        )
        if limit is not None:
            statement = statement.limit(limit)
        found = (await self._session.exec(statement)).all()
        return [follow_up_from_row(row, number, issue=(key, url)) for row, number, key, url in found]


def follow_up_from_row(
    row: FollowUpRow | sa.Row[Any], number: int, *, issue: tuple[str | None, str | None] = (None, None)
) -> FollowUp:
    """A follow-up from its row (an ORM object or a plain row of the same columns), its incident's number
    and its issue's key and link (when it has one)."""
    assert row.id is not None
    return FollowUp(
        id=row.id,
        incident_id=row.incident_id,
        incident_number=number,
        text=row.text,
        owner=row.owner,
        due_on=row.due_on,
        created_by=row.created_by,
        created_at=row.created_at,
        done_at=row.done_at,
        done_by=row.done_by,
        remind_at=row.remind_at,
        issue_key=issue[0],
        issue_url=issue[1],
    )
