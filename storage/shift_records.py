"""Overrides and swaps made from Slack, their audit list, calendar feed tokens (`uow.shifts`). Never commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.shift_values import LogAction, LogEntry, NewRequest, RequestState, ShiftRequest, StoredOverride, Via
from storage.core_sql import dialect_insert, dialect_of, run, table_of
from storage.row_values import value_from_row
from storage.shift_models import CalendarTokenRow, ShiftLogRow, ShiftOverrideRow, ShiftRequestRow

_overrides = table_of(ShiftOverrideRow)
_requests = table_of(ShiftRequestRow)
_log = table_of(ShiftLogRow)
_tokens = table_of(CalendarTokenRow)
# A transaction-scoped advisory lock per schedule: the two-key form, in a key space of its own.
SCHEDULE_LOCKS = 0x70C5  # the first key: Tocsin's schedules
_HOLD_SCHEDULE = sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))")


def _override(row: Any) -> StoredOverride:
    return value_from_row(StoredOverride, row, start=row.starts_at, end=row.ends_at, via=Via(row.via))


def _request(row: Any) -> ShiftRequest:
    new = value_from_row(
        NewRequest,
        row,
        kind=Via(row.kind),
        start=row.starts_at,
        end=row.ends_at,
        their_start=row.their_starts_at,
        their_end=row.their_ends_at,
    )
    message = (row.dm_channel, row.dm_ts) if row.dm_channel and row.dm_ts else None
    return value_from_row(ShiftRequest, row, request=new, state=RequestState(row.state), message=message)


def _entry(row: Any) -> LogEntry:
    return value_from_row(LogEntry, row, action=LogAction(row.action), start=row.starts_at, end=row.ends_at)


class ShiftRecords:
    """Overrides and swaps made from Slack, their audit list, calendar feed tokens, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    # ----- overrides -----------------------------------------------------------------------------
    async def hold_schedule(self, schedule: str) -> None:
        """Hold `schedule`'s overrides until the transaction ends, so that two replicas checking a new
        override for overlaps take turns (SQLite's single writer takes turns already)."""
        if dialect_of(self._session) == "postgresql":
            await run(self._session, _HOLD_SCHEDULE, {"space": SCHEDULE_LOCKS, "name": schedule})

    async def add_override(
        self,
        schedule: str,
        user: str,
        start: datetime,
        end: datetime,
        *,
        via: Via,
        replaces: str | None,
        by: str,
        at: datetime,
    ) -> StoredOverride:
        """Store an override; the stored override."""
        statement = (
            sa.insert(_overrides)
            .values(
                schedule=schedule,
                user=user,
                starts_at=start,
                ends_at=end,
                via=via.value,
                replaces=replaces,
                created_by=by,
                created_at=at,
            )
            .returning(*_overrides.c)
        )
        return _override((await self._session.exec(statement)).one())

    async def overrides(self, schedules: Collection[str] | None, *, ending_after: datetime) -> list[StoredOverride]:
        """The overrides (not removed) of `schedules` (None: all) ending after `ending_after`, by start."""
        query = sa.select(_overrides).where(_overrides.c.removed_at.is_(None), _overrides.c.ends_at > ending_after)
        if schedules is not None:
            query = query.where(_overrides.c.schedule.in_(list(schedules)))
        rows = await run(self._session, query.order_by(_overrides.c.starts_at, _overrides.c.id))
        return [_override(r) for r in rows]

    async def override(self, override_id: int) -> StoredOverride | None:
        """One override, removed or not."""
        row = (await run(self._session, sa.select(_overrides).where(_overrides.c.id == override_id))).first()
        return _override(row) if row is not None else None

    async def remove_override(self, override_id: int, *, by: str, at: datetime) -> bool:
        """Mark an override removed; whether it was there to remove."""
        statement = (
            sa.update(_overrides)
            .where(_overrides.c.id == override_id, _overrides.c.removed_at.is_(None))
            .values(removed_at=at, removed_by=by)
        )
        return bool((await self._session.exec(statement)).rowcount)

    # ----- requests ------------------------------------------------------------------------------
    async def add_request(self, new: NewRequest, *, at: datetime) -> ShiftRequest:
        """Store a pending give or swap request; the stored request."""
        statement = (
            sa.insert(_requests)
            .values(
                schedule=new.schedule,
                kind=new.kind.value,
                requester=new.requester,
                asked=new.asked,
                starts_at=new.start,
                ends_at=new.end,
                their_starts_at=new.their_start,
                their_ends_at=new.their_end,
                from_now=new.from_now,
                state=RequestState.PENDING.value,
                created_at=at,
            )
            .returning(*_requests.c)
        )
        return _request((await self._session.exec(statement)).one())

    async def request(self, request_id: int) -> ShiftRequest | None:
        """One request."""
        row = (await run(self._session, sa.select(_requests).where(_requests.c.id == request_id))).first()
        return _request(row) if row is not None else None

    async def decide(self, request_id: int, state: RequestState, *, at: datetime) -> bool:
        """Move a pending request to `state`; whether it was pending (a second answer finds it decided)."""
        statement = (
            sa.update(_requests)
            .where(_requests.c.id == request_id, _requests.c.state == RequestState.PENDING.value)
            .values(state=state.value, decided_at=at)
        )
        return bool((await self._session.exec(statement)).rowcount)

    async def set_message(self, request_id: int, channel: str, ts: str) -> None:
        """Remember the DM that asks for an answer (to show the answer in it)."""
        statement = sa.update(_requests).where(_requests.c.id == request_id).values(dm_channel=channel, dm_ts=ts)
        await self._session.exec(statement)

    async def pending_for(self, user_id: str) -> list[ShiftRequest]:
        """The requests waiting for `user_id`'s answer, oldest first."""
        query = (
            sa.select(_requests)
            .where(_requests.c.asked == user_id, _requests.c.state == RequestState.PENDING.value)
            .order_by(_requests.c.id)
        )
        return [_request(r) for r in await run(self._session, query)]

    # ----- the audit list ------------------------------------------------------------------------
    async def log(
        self,
        schedule: str,
        action: LogAction,
        *,
        actor: str,
        at: datetime,
        user: str | None = None,
        other: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        override_id: int | None = None,
        request_id: int | None = None,
    ) -> None:
        """Add a line to the audit list."""
        statement = sa.insert(_log).values(
            schedule=schedule,
            action=action.value,
            actor=actor,
            at=at,
            user=user,
            other=other,
            starts_at=start,
            ends_at=end,
            override_id=override_id,
            request_id=request_id,
        )
        await self._session.exec(statement)

    async def entries(self, schedule: str | None, *, limit: int) -> list[LogEntry]:
        """The audit list of one schedule (or all), newest first."""
        query = sa.select(_log)
        if schedule is not None:
            query = query.where(_log.c.schedule == schedule)
        rows = await run(self._session, query.order_by(_log.c.id.desc()).limit(limit))
        return [_entry(r) for r in rows]

    # ----- calendar feed tokens ------------------------------------------------------------------
    async def token(self, scope: str) -> str | None:
        """The calendar feed token of `scope`, if one was made."""
        found = await run(self._session, sa.select(_tokens.c.token).where(_tokens.c.scope == scope))
        value = found.scalar_one_or_none()
        return str(value) if value is not None else None

    async def put_token(self, scope: str, token: str, *, by: str, at: datetime, replace: bool) -> str:
        """Store `token` for `scope` (replacing the old one when `replace`, else only if there is none); the
        token the scope has now."""
        insert = dialect_insert(self._session, _tokens).values(scope=scope, token=token, created_by=by, created_at=at)
        if replace:
            statement = insert.on_conflict_do_update(
                index_elements=["scope"], set_={"token": token, "created_by": by, "created_at": at}
            )
        else:
            statement = insert.on_conflict_do_nothing(index_elements=["scope"])
        await self._session.exec(statement)
        stored = await self.token(scope)
        assert stored is not None
        return stored
