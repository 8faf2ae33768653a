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
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.escalation import ACKNOWLEDGED, EXHAUSTED, TRIGGERED, Page
from bot.domain.events import DomainEvent, PageExhausted, Subject, new_event
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
from storage.core_sql import DialectInsert, dialect_of, inserts_by_dialect, run, table_of
from storage.event_records import EventRecords
from storage.follow_up_records import follow_up_from_row
from storage.incident_records import IncidentRecords
from storage.incident_rows import incident_from_row, timeline_values
from storage.leases import Lease
from storage.models import FollowUpRow, IncidentRow, PageNotificationRow, PageRow, TimelineEventRow, UTCDateTime
from storage.page_records import page_from_row

_incidents = table_of(IncidentRow)
_pages = table_of(PageRow)
_follow_ups = table_of(FollowUpRow)

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

_with_ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
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
ADD_TIMELINE = sa.insert(table_of(TimelineEventRow))


def _add_notifications(statement: DialectInsert) -> DialectInsert:
    # A step recorded twice (a retried tick) stays once; a step sent again after an ack timeout re-opened
    # the page keeps its newest DM, the one to settle when it is acknowledged again.
    newest = {"channel": statement.excluded.channel, "ts": statement.excluded.ts, "sent_at": statement.excluded.sent_at}
    return statement.on_conflict_do_update(index_elements=["page_id", "round", "tier", "user_id"], set_=newest)


ADD_NOTIFICATIONS = inserts_by_dialect(table_of(PageNotificationRow), _add_notifications)


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

    def __init__(self, session: AsyncSession, incidents: IncidentRecords, events: EventRecords) -> None:
        """Work inside the unit of work's session (incidents: for the roles of a claimed incident; events:
        the log a page that ran out of steps is recorded in)."""
        self._session = session
        self._incidents = incidents
        self._events = events

    async def claim(
        self, *, now: datetime, lease: timedelta, token: str, limit: int, follow_ups: bool = True
    ) -> Claimed:
        """Take up to `limit` due timers of each kind for `lease`, with what firing them needs to know;
        replicas skip each other's rows. Nothing due: one statement per kind of timer."""

        async def due(timer: Lease) -> Sequence[sa.Row[Any]]:
            return await timer.claim_due(self._session, now=now, lease=lease, token=token, limit=limit)

        claimed = Claimed()
        if rows := await due(UPDATE_REMINDER):
            roles = await self._incidents.roles_of([r.id for r in rows])
            claimed.reminders = {r.id: incident_from_row(r, roles.get(r.id, {})) for r in rows}
        if rows := await due(PAGE_STEP):
            channels: dict[int, str | None] = await self._by_id(
                CHANNELS, {r.incident_id for r in rows if r.incident_id}
            )
            claimed.pages = {r.id: (page_from_row(r), channels.get(r.incident_id)) for r in rows}
        if follow_ups and (rows := await due(FOLLOW_UP_REMINDER)):
            numbers: dict[int, int] = await self._by_id(NUMBERS, {r.incident_id for r in rows})
            claimed.follow_ups = {r.id: follow_up_from_row(r, numbers[r.incident_id]) for r in rows}
        return claimed

    async def release_claims(self, token: str) -> None:
        """Give back whatever a stopping tick claimed and did not fire: due at once for the next tick."""
        for lease in LEASES.values():
            await lease.release_all(self._session, token=token)

    async def _by_id(self, statement: sa.Select[Any], ids: set[int]) -> dict[int, Any]:
        # Incident id -> the one other column `statement` reads (CHANNELS, NUMBERS), for these incidents.
        return {row_id: value for row_id, value in (await run(self._session, statement, {"ids": sorted(ids)})).all()}

    async def record(self, results: Sequence[TimerResult], *, token: str) -> list[bool]:
        """Record what a tick's timers did; for each, whether its row was still as claimed (taken)."""
        taken = [False] * len(results)
        entries: list[dict[str, Any]] = []
        notified: list[dict[str, Any]] = []
        exhausted: list[DomainEvent] = []
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
                if result.exhausted and taken[i]:
                    exhausted.append(_exhausted(result))
                notified.extend(_notification(result, *n) for n in result.notified)
        if entries:
            await self._session.exec(ADD_TIMELINE, params=entries)
        if notified:
            await self._session.exec(ADD_NOTIFICATIONS[dialect_of(self._session)], params=notified)
        await self._events.append(*exhausted)
        return taken

    async def _move_on(self, result: TimerResult, token: str) -> bool:
        if isinstance(result, Released):
            await LEASES[result.kind].release(self._session, result.row_id, token=token)
            return True
        statement, params = _moving_on(result)
        outcome = await self._session.exec(statement, params={**params, "token": token})
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


def _exhausted(result: PageStepped) -> DomainEvent:
    page = result.page
    subject = Subject(incident_id=page.incident_id, page_id=page.id)
    return new_event(PageExhausted(page_id=page.id), subject=subject, actor=None, at=result.sent_at)


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
