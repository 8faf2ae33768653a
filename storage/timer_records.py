"""The timer tick's reads and writes, a tick at a time. Never commits.

`claim` takes every kind of due timer (one `UPDATE … RETURNING` each, storage/leases.py) and loads what
was claimed, in the caller's one transaction. `record` writes what a tick's firings did in one
transaction: one conditional UPDATE per timer (so a reminder overtaken by an update, or a page
acknowledged meanwhile, is left alone and reported as not taken), then every timeline entry and every
page notification in one statement each. The statements are built once, with bound parameters, so a
busy tick spends its CPU on work rather than on building SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.escalation import ACKNOWLEDGED, EXHAUSTED, TRIGGERED, Page
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident
from bot.domain.timer_results import (
    AckTimedOut,
    FollowUpReminded,
    PageDeferred,
    PageStepped,
    Released,
    ReminderSent,
    TimerKind,
    TimerResult,
)
from storage.followup_records import follow_up_from_row
from storage.incident_records import IncidentRepository, incident_from_row, timeline_values
from storage.leases import Lease
from storage.models import FollowUpRow, IncidentRow, PageNotificationRow, PageRow, TimelineEventRow, UTCDateTime
from storage.page_records import page_from_row

_incidents = IncidentRow.__table__  # type: ignore[attr-defined]
_pages = PageRow.__table__  # type: ignore[attr-defined]
_follow_ups = FollowUpRow.__table__  # type: ignore[attr-defined]

UPDATE_REMINDER = Lease(_incidents, due="reminder_at", claim="reminder_claim", until="reminder_claimed_until")
PAGE_STEP = Lease(
    _pages,
    due="next_step_at",
    claim="claim",
    until="claimed_until",
    where=[_pages.c.status.in_((TRIGGERED, ACKNOWLEDGED))],
)
FOLLOW_UP_REMINDER = Lease(_follow_ups, due="remind_at", claim="claim", until="claimed_until")
LEASES: dict[TimerKind, Lease] = {"reminder": UPDATE_REMINDER, "page": PAGE_STEP, "follow_up": FOLLOW_UP_REMINDER}

_with_ids = sa.bindparam("ids", expanding=True)
CHANNELS = sa.select(_incidents.c.id, _incidents.c.channel_id).where(_incidents.c.id.in_(_with_ids))
NUMBERS = sa.select(_incidents.c.id, _incidents.c.number).where(_incidents.c.id.in_(_with_ids))


def _when(name: str) -> sa.BindParameter[datetime]:
    return sa.bindparam(name, type_=UTCDateTime())


# Each moves a claimed timer on and releases the claim, unless something overtook it meanwhile.
FINISH_REMINDER = UPDATE_REMINDER.finishing(
    _incidents.c.reminder_at == _when("due_at"),  # an update came in: the reminder was already moved
    reminders_sent=sa.bindparam("sent"),
    reminder_at=_when("next_at"),
)
ADVANCE_PAGE = PAGE_STEP.finishing(
    _pages.c.status == TRIGGERED,  # acknowledged, declined or cancelled meanwhile: leave it be
    status=sa.bindparam("new_status"),
    tier=sa.bindparam("next_tier"),
    round=sa.bindparam("next_round"),
    next_step_at=_when("next_at"),
)
DEFER_PAGE = PAGE_STEP.finishing(
    _pages.c.status == TRIGGERED,  # answered meanwhile: nothing is left to retry
    next_step_at=_when("retry_at"),
)
REOPEN_PAGE = PAGE_STEP.finishing(
    _pages.c.status == ACKNOWLEDGED,
    _pages.c.next_step_at == _when("due_at"),  # acknowledged again meanwhile: the timeout started over
    status=TRIGGERED,
    tier=0,
    round=0,
    next_step_at=_when("next_at"),
    acknowledged_by=None,
    acknowledged_at=None,
)
FINISH_FOLLOW_UP = FOLLOW_UP_REMINDER.finishing(
    _follow_ups.c.remind_at == _when("due_at"),
    remind_at=_when("next_at"),
    reminders_sent=_follow_ups.c.reminders_sent + 1,
)
ADD_TIMELINE = sa.insert(TimelineEventRow.__table__)  # type: ignore[attr-defined]


def _add_notifications(insert: Any) -> sa.Insert:
    # A step recorded twice (a retried tick) stays once; a step sent again after an ack timeout re-opened
    # the page keeps its newest DM, the one to settle when it is acknowledged again.
    statement = insert(PageNotificationRow.__table__)  # type: ignore[attr-defined]
    newest = {"channel": statement.excluded.channel, "ts": statement.excluded.ts, "sent_at": statement.excluded.sent_at}
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=["page_id", "round", "tier", "user_id"], set_=newest
    )


ADD_NOTIFICATIONS = {
    name: _add_notifications(insert) for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


@dataclass(slots=True)
class Claimed:
    """Everything one tick claimed, as it was when claimed."""

    reminders: dict[int, Incident] = field(default_factory=dict)
    pages: dict[int, tuple[Page, str | None]] = field(default_factory=dict)  # with the incident's channel
    follow_ups: dict[int, FollowUp] = field(default_factory=dict)

    def __len__(self) -> int:
        """How many timers were claimed."""
        return len(self.reminders) + len(self.pages) + len(self.follow_ups)


class TimerRecords:
    """Claiming and recording timers within one session."""

    def __init__(self, session: AsyncSession, incidents: IncidentRepository) -> None:
        """Work inside the unit of work's session (incidents: for the roles of a claimed incident)."""
        self._session = session
        self._incidents = incidents

    async def claim(
        self, *, now: datetime, lease: timedelta, token: str, limit: int, follow_ups: bool = True
    ) -> Claimed:
        """Take up to `limit` due timers of each kind for `lease`, with what firing them needs to know;
        replicas skip each other's rows. Nothing due: one statement per kind of timer."""
        claim = {"now": now, "lease": lease, "token": token, "limit": limit}
        claimed = Claimed()
        if rows := await UPDATE_REMINDER.claim_due(self._session, **claim):
            roles = await self._incidents.roles_of([r.id for r in rows])
            claimed.reminders = {r.id: incident_from_row(r, roles.get(r.id, {})) for r in rows}
        if rows := await PAGE_STEP.claim_due(self._session, **claim):
            channels = dict((await self._lookup(CHANNELS, {r.incident_id for r in rows if r.incident_id})).all())
            claimed.pages = {r.id: (page_from_row(r), channels.get(r.incident_id)) for r in rows}
        if follow_ups and (rows := await FOLLOW_UP_REMINDER.claim_due(self._session, **claim)):
            numbers = dict((await self._lookup(NUMBERS, {r.incident_id for r in rows})).all())
            claimed.follow_ups = {r.id: follow_up_from_row(r, numbers[r.incident_id]) for r in rows}
        return claimed

    async def release_claims(self, token: str) -> None:
        """Give back whatever a stopping tick claimed and did not fire: due at once for the next tick."""
        for lease in LEASES.values():
            await lease.release_all(self._session, token=token)

    async def _lookup(self, statement: sa.Select[Any], ids: set[int]) -> sa.Result[Any]:
        return await self._session.exec(statement, params={"ids": sorted(ids)})  # type: ignore[call-overload,no-any-return]

    async def record(self, results: Sequence[TimerResult], *, token: str) -> list[bool]:
        """Record what a tick's timers did; for each, whether its row was still as claimed (taken)."""
        taken = [False] * len(results)
        entries: list[dict[str, Any]] = []
        notified: list[dict[str, Any]] = []
        for i in sorted(range(len(results)), key=lambda i: _lock_order(results[i])):
            result = results[i]
            taken[i] = await self._move_on(result, token)
            if isinstance(result, ReminderSent) and taken[i]:
                entries.append(timeline_values(result.incident_id, result.entry))
            elif isinstance(result, AckTimedOut) and taken[i] and result.page.incident_id:
                entries.append(timeline_values(result.page.incident_id, result.entry))
            elif isinstance(result, PageStepped):
                # A step that was sent stays on record even when an acknowledgement overtook it.
                if result.entry is not None and result.page.incident_id and (taken[i] or not result.exhausted):
                    entries.append(timeline_values(result.page.incident_id, result.entry))
                notified.extend(_notification(result, *n) for n in result.notified)
        if entries:
            await self._session.exec(ADD_TIMELINE, params=entries)  # type: ignore[call-overload]
        if notified:
            add = ADD_NOTIFICATIONS[self._session.bind.dialect.name]
            await self._session.exec(add, params=notified)  # type: ignore[call-overload]
        return taken

    async def _move_on(self, result: TimerResult, token: str) -> bool:
        if isinstance(result, Released):
            await LEASES[result.kind].release(self._session, result.row_id, token=token)
            return True
        statement, params = _moving_on(result)
        outcome = await self._session.exec(statement, params={**params, "token": token})  # type: ignore[call-overload]
        return bool(outcome.rowcount)


def _moving_on(
    result: ReminderSent | PageStepped | PageDeferred | AckTimedOut | FollowUpReminded,
) -> tuple[sa.Update, dict[str, Any]]:
    if isinstance(result, ReminderSent):
        values = {"row_id": result.incident_id, "due_at": result.due_at, "sent": result.sent, "next_at": result.next_at}
        return FINISH_REMINDER, values
    if isinstance(result, PageStepped):
        status = EXHAUSTED if result.exhausted else TRIGGERED
        values = {"next_tier": result.next_tier, "next_round": result.next_round, "next_at": result.next_at}
        return ADVANCE_PAGE, {"row_id": result.page.id, "new_status": status, **values}
    if isinstance(result, PageDeferred):
        return DEFER_PAGE, {"row_id": result.page_id, "retry_at": result.retry_at}
    if isinstance(result, AckTimedOut):  # the first tier is due at once
        return REOPEN_PAGE, {"row_id": result.page.id, "due_at": result.due_at, "next_at": result.sent_at}
    return FINISH_FOLLOW_UP, {"row_id": result.follow_up_id, "due_at": result.due_at, "next_at": result.next_at}


def _lock_order(result: TimerResult) -> tuple[str, int]:
    # Rows are updated in one order (table, then id) by every tick, so two replicas never deadlock.
    if isinstance(result, Released):
        return result.kind, result.row_id
    if isinstance(result, ReminderSent):
        return "reminder", result.incident_id
    if isinstance(result, PageStepped | AckTimedOut):
        return "page", result.page.id
    if isinstance(result, PageDeferred):
        return "page", result.page_id
    return "follow_up", result.follow_up_id


def _notification(result: PageStepped, user_id: str, channel: str | None, ts: str | None) -> dict[str, Any]:
    return {
        "page_id": result.page.id,
        "round": result.round,
        "tier": result.tier,
        "user_id": user_id,
        "sent_at": result.sent_at,
        "channel": channel,
        "ts": ts,
    }
