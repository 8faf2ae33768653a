"""Heartbeats and maintenance windows (`uow.watch`). Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.heartbeats import HeartbeatState
from bot.domain.maintenance import NewWindow, Window
from storage.core_sql import dialect_insert, run, table_of
from storage.watch_models import HeartbeatRow, MaintenanceWindowRow

_beats = table_of(HeartbeatRow)
_windows = table_of(MaintenanceWindowRow)


def _state(row: Any) -> HeartbeatState:
    return HeartbeatState(row.name, row.since, row.last_seen_at, row.missed_at, row.generation)


def _window(row: Any) -> Window:
    return Window(
        id=row.id,
        service=row.service,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_by=row.created_by,
        recurring_key=row.recurring_key,
        declares_page=row.declares_page,
        ended_at=row.ended_at,
    )


def _not_over(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(_windows.c.ends_at > now, sa.or_(_windows.c.ended_at.is_(None), _windows.c.ended_at > now))


class WatchRecords:
    """Heartbeats and maintenance windows, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    # ----- heartbeats --------------------------------------------------------------------------------
    async def know_heartbeat(self, name: str, *, now: datetime) -> HeartbeatState:
        """The heartbeat's state, stored first (known since `now`) if it was not."""
        insert = dialect_insert(self._session, _beats).values(name=name, since=now, generation=0)
        await self._session.exec(insert.on_conflict_do_nothing(index_elements=["name"]))
        held = sa.select(_beats).where(_beats.c.name == name).with_for_update()  # beats and misses take turns
        return _state((await run(self._session, held)).one())

    async def heartbeat(self, name: str) -> HeartbeatState | None:
        """The heartbeat's state, if stored."""
        row = (await run(self._session, sa.select(_beats).where(_beats.c.name == name))).first()
        return _state(row) if row is not None else None

    async def next_generation(self, name: str, *, generation: int) -> bool:
        """Move the heartbeat on to its next deadline job (its job of `generation` was used up)."""
        result = await self._session.exec(
            sa.update(_beats)
            .where(_beats.c.name == name, _beats.c.generation == generation)
            .values(generation=generation + 1)
        )
        return bool(result.rowcount)

    async def heartbeats(self) -> Sequence[HeartbeatState]:
        """Every stored heartbeat's state, by name."""
        rows = (await run(self._session, sa.select(_beats).order_by(_beats.c.name))).all()
        return [_state(r) for r in rows]

    async def beat(self, name: str, *, at: datetime) -> None:
        """Record a beat at `at` (the heartbeat is no longer missed)."""
        await self._session.exec(sa.update(_beats).where(_beats.c.name == name).values(last_seen_at=at, missed_at=None))

    async def mark_missed(self, name: str, *, generation: int, at: datetime, silent_since: datetime) -> bool:
        """Mark the heartbeat missed, unless it already is, its generation moved on, or it was heard from (or
        first known) after `silent_since`; whether this call did."""
        heard = sa.func.coalesce(_beats.c.last_seen_at, _beats.c.since)
        result = await self._session.exec(
            sa.update(_beats)
            .where(
                _beats.c.name == name,
                _beats.c.generation == generation,
                _beats.c.missed_at.is_(None),
                heard <= silent_since,
            )
            .values(missed_at=at, generation=generation + 1)
        )
        return bool(result.rowcount)

    # ----- maintenance windows -----------------------------------------------------------------------
    async def add_window(self, new: NewWindow) -> Window:
        """Store a window; a recurring window's occurrence stored before is given back as it is."""
        values = {
            "service": new.service,
            "starts_at": new.starts_at,
            "ends_at": new.ends_at,
            "reason": new.reason[:500],
            "created_by": new.created_by,
            "recurring_key": new.recurring_key,
            "declares_page": new.declares_page,
        }
        insert = dialect_insert(self._session, _windows).values(values)
        if new.recurring_key is None:
            row = (await self._session.exec(insert.returning(*_windows.c))).one()
            return _window(row)
        await self._session.exec(insert.on_conflict_do_nothing(index_elements=["recurring_key", "starts_at"]))
        found = sa.select(_windows).where(
            _windows.c.recurring_key == new.recurring_key, _windows.c.starts_at == new.starts_at
        )
        return _window((await run(self._session, found)).one())

    async def window(self, window_id: int) -> Window | None:
        """One window."""
        row = (await run(self._session, sa.select(_windows).where(_windows.c.id == window_id))).first()
        return _window(row) if row is not None else None

    async def windows(self, *, now: datetime, service: str | None = None) -> Sequence[Window]:
        """The windows not over at `now` (of `service` only, if given), soonest first."""
        query = sa.select(_windows).where(_not_over(now))
        if service is not None:
            query = query.where(_windows.c.service == service)
        rows = (await run(self._session, query.order_by(_windows.c.starts_at, _windows.c.id))).all()
        return [_window(r) for r in rows]

    async def end_window(self, window_id: int, *, at: datetime) -> Window | None:
        """End a window early at `at`; the window as it is now, or None when it was over already."""
        result = await self._session.exec(
            sa.update(_windows).where(_windows.c.id == window_id, _not_over(at)).values(ended_at=at)
        )
        return await self.window(window_id) if result.rowcount else None

    async def drop_window(self, window_id: int) -> None:
        """Forget a window that has not started."""
        await self._session.exec(sa.delete(_windows).where(_windows.c.id == window_id))
