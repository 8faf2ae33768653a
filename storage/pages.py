"""Queries over pages and their notifications, and claiming due timers. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.escalation import ACKNOWLEDGED, CANCELLED, TRIGGERED, Notification, Page, Plan
from storage.leases import Lease
from storage.models import IncidentRow, PageNotificationRow, PageRow

PAGE_STEP = Lease(PageRow, PageRow.id, PageRow.next_step_at, PageRow.claim, PageRow.claimed_until)
UPDATE_REMINDER = Lease(
    IncidentRow, IncidentRow.id, IncidentRow.reminder_at, IncidentRow.reminder_claim, IncidentRow.reminder_claimed_until
)


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
        row = PageRow(
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
        )
        self._session.add(row)
        await self._session.flush()
        assert row.id is not None
        return row.id

    async def get(self, page_id: int) -> Page | None:
        """A page by id."""
        row = await self._session.get(PageRow, page_id)
        return _to_page(row) if row else None

    async def get_many(self, page_ids: Sequence[int]) -> dict[int, Page]:
        """Several pages by id, in one query."""
        if not page_ids:
            return {}
        statement = select(PageRow).where(col(PageRow.id).in_(page_ids))
        return {row.id: _to_page(row) for row in (await self._session.exec(statement)).all() if row.id is not None}

    async def for_incident(self, incident_id: int) -> list[Page]:
        """An incident's pages, oldest first."""
        statement = select(PageRow).where(PageRow.incident_id == incident_id).order_by(col(PageRow.id))
        return [_to_page(r) for r in (await self._session.exec(statement)).all()]

    async def claim_due(self, *, now: datetime, lease: timedelta, token: str, limit: int) -> list[int]:
        """Take up to `limit` pages whose step is due, for `lease`; replicas skip each other's rows."""
        return await PAGE_STEP.claim_due(
            self._session, now=now, lease=lease, token=token, limit=limit, where=(col(PageRow.status) == TRIGGERED,)
        )

    async def advance(self, page_id: int, *, token: str, **values: Any) -> bool:
        """Move a claimed, still-escalating page on and release the claim; False if it was acknowledged
        (or the claim was lost) meanwhile."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.claim) == token, col(PageRow.status) == TRIGGERED)
            .values(claim=None, claimed_until=None, **values)
        )
        return bool(result.rowcount)

    async def release(self, page_id: int, *, token: str) -> None:
        """Give a claim back without moving the page."""
        await PAGE_STEP.release(self._session, page_id, token=token)

    async def acknowledge(self, page_id: int, *, user_id: str, now: datetime) -> bool:
        """Stop the escalation; True only for the first acknowledgement (one UPDATE, no race)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(status=ACKNOWLEDGED, acknowledged_by=user_id, acknowledged_at=now, next_step_at=None)
        )
        return bool(result.rowcount)

    async def cancel(self, page_id: int) -> bool:
        """Stop a page nobody acknowledged (its alert resolved); False if it was not escalating."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(status=CANCELLED, next_step_at=None)
        )
        return bool(result.rowcount)

    async def escalate_now(self, page_id: int, *, now: datetime) -> bool:
        """Make the next step due at once (someone declined)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(next_step_at=now)
        )
        return bool(result.rowcount)

    async def record_notifications(
        self, page_id: int, *, round: int, tier: int, sent: Sequence[tuple[str, str | None, str | None]], now: datetime
    ) -> None:
        """Remember who a step notified and where their DM is; a step recorded twice stays once."""
        insert = postgresql.insert if self._session.bind.dialect.name == "postgresql" else sqlite.insert
        for user_id, channel, ts in sent:
            await self._session.exec(
                insert(PageNotificationRow)
                .values(page_id=page_id, round=round, tier=tier, user_id=user_id, sent_at=now, channel=channel, ts=ts)
                .on_conflict_do_nothing()
            )

    async def notifications(self, page_id: int) -> list[Notification]:
        """Everyone a page has notified so far."""
        statement = select(PageNotificationRow).where(PageNotificationRow.page_id == page_id)
        return [
            Notification(r.user_id, r.round, r.tier, r.channel, r.ts)
            for r in (await self._session.exec(statement)).all()
        ]

    # ----- the update-reminder timer on incidents ------------------------------------------------
    async def claim_due_reminders(self, *, now: datetime, lease: timedelta, token: str, limit: int) -> list[int]:
        """Take up to `limit` incidents whose update reminder is due, for `lease`."""
        return await UPDATE_REMINDER.claim_due(self._session, now=now, lease=lease, token=token, limit=limit)

    async def finish_reminder(
        self, incident_id: int, *, token: str, due_at: datetime, sent: int, next_at: datetime | None
    ) -> bool:
        """Record a sent nag and set the next; False when the reminder changed meanwhile (an update came
        in, or the claim was lost), in which case nothing is changed."""
        result = await self._session.exec(
            sa.update(IncidentRow)
            .where(
                col(IncidentRow.id) == incident_id,
                col(IncidentRow.reminder_claim) == token,
                col(IncidentRow.reminder_at) == due_at,
            )
            .values(reminders_sent=sent, reminder_at=next_at, reminder_claim=None, reminder_claimed_until=None)
        )
        return bool(result.rowcount)

    async def release_reminder(self, incident_id: int, *, token: str) -> None:
        """Give a reminder claim back."""
        await UPDATE_REMINDER.release(self._session, incident_id, token=token)


def _to_page(row: PageRow) -> Page:
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
