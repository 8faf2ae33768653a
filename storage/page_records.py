"""Queries over pages and their notifications (their steps are claimed and recorded in
storage/timer_records.py). Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.escalation import ACKNOWLEDGED, CANCELLED, TRIGGERED, Notification, Page, Plan
from storage.models import PageNotificationRow, PageRow

_PAGES = PageRow.__table__  # type: ignore[attr-defined]


class Stopped(NamedTuple):
    """Pages stopped: those cancelled (nobody had acknowledged them), and those whose ack timeout stopped."""

    cancelled: list[int]
    timeouts_stopped: list[int]


class PageRepository:
    """Pages within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def start(
        self,
        *,
        team_id: str,
        incident_id: int | None,
        title: str,
        severity: str,
        source: str,
        plan: Plan,
        created_by: str,
        now: datetime,
        dedup_key: str | None = None,
    ) -> int:
        """Store a new page whose first step is due now."""
        values = dict(
            team_id=team_id,
            incident_id=incident_id,
            title=title,
            severity=severity,
            source=source,
            plan=plan.to_json(),
            status=TRIGGERED,
            next_step_at=now,
            created_by=created_by,
            created_at=now,
            dedup_key=dedup_key,
            tier=0,
            round=0,
        )
        inserted = await self._session.exec(sa.insert(_PAGES).values(values).returning(_PAGES.c.id))
        return int(inserted.scalar_one())

    async def get(self, page_id: int) -> Page | None:
        """A page by id."""
        row = await self._session.get(PageRow, page_id, populate_existing=True)  # as it is after any UPDATE
        return page_from_row(row) if row else None

    async def for_incident(self, incident_id: int) -> list[Page]:
        """An incident's pages, oldest first."""
        statement = select(PageRow).where(PageRow.incident_id == incident_id).order_by(col(PageRow.id))
        return [page_from_row(r) for r in (await self._session.exec(statement)).all()]

    async def acknowledge(self, page_id: int, *, user_id: str, now: datetime, reopens_at: datetime | None) -> bool:
        """Stop the escalation (until `reopens_at`, the plan's ack_timeout, if any); True only for the
        first acknowledgement (one UPDATE, no race)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(
                status=ACKNOWLEDGED,
                acknowledged_by=user_id,
                acknowledged_at=now,
                next_step_at=reopens_at,
                claim=None,
                claimed_until=None,
            )
        )
        return bool(result.rowcount)

    async def renew_acknowledgement(self, page_id: int, *, reopens_at: datetime) -> bool:
        """Acknowledged again: the ack timeout starts over; False when none is running (the page is no
        longer acknowledged, or its incident or alert was resolved)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(
                col(PageRow.id) == page_id,
                col(PageRow.status) == ACKNOWLEDGED,
                col(PageRow.next_step_at).is_not(None),  # an ack timeout still running (not resolved)
            )
            .values(next_step_at=reopens_at)
        )
        return bool(result.rowcount)

    async def cancel(self, page_id: int) -> Stopped:
        """Stop a page (its alert resolved): cancelled if nobody acknowledged it, or its ack timeout
        stopped if it was acknowledged."""
        return await self._stop(_PAGES.c.id == page_id)

    async def stop_for_incident(self, incident_id: int) -> Stopped:
        """The incident is resolved: cancel its pages still escalating and stop its ack timeouts."""
        return await self._stop(_PAGES.c.incident_id == incident_id)

    async def _stop(self, which: sa.ColumnElement[bool]) -> Stopped:
        cancel = (
            sa.update(_PAGES)
            .where(which, _PAGES.c.status == TRIGGERED)
            .values(status=CANCELLED, next_step_at=None)
            .returning(_PAGES.c.id)
        )
        stop_timeout = (
            sa.update(_PAGES)
            .where(which, _PAGES.c.status == ACKNOWLEDGED, _PAGES.c.next_step_at.is_not(None))
            .values(next_step_at=None)
            .returning(_PAGES.c.id)
        )
        cancelled = [int(i) for i in (await self._session.exec(cancel)).scalars()]
        timeouts_stopped = [int(i) for i in (await self._session.exec(stop_timeout)).scalars()]
        return Stopped(cancelled, timeouts_stopped)

    async def escalate_now(self, page_id: int, *, now: datetime) -> bool:
        """Make the next step due at once (someone declined)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(next_step_at=now)
        )
        return bool(result.rowcount)

    async def notifications(self, page_id: int) -> list[Notification]:
        """Everyone a page has notified so far."""
        statement = select(PageNotificationRow).where(PageNotificationRow.page_id == page_id)
        return [
            Notification(r.user_id, r.round, r.tier, r.channel, r.ts)
            for r in (await self._session.exec(statement)).all()
        ]


def page_from_row(row: PageRow | sa.Row[Any]) -> Page:
    """A page from its row (an ORM object or a plain row of the same columns)."""
    assert row.id is not None
    return Page(
        id=row.id,
        team_id=row.team_id,
        incident_id=row.incident_id,
        title=row.title,
        severity=row.severity,
        source=row.source,
        plan=Plan.from_json(row.plan),
        status=row.status,
        tier=row.tier,
        round=row.round,
        next_step_at=row.next_step_at,
        created_by=row.created_by,
        created_at=row.created_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )
