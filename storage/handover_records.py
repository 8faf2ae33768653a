"""Handover notes, handoffs seen, round-robin turns, user-group syncs (`uow.handovers`). Never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.handover_models  # noqa: F401 - registers the tables
from bot.domain.handovers import FiringAlert, HandoverNote, OpenIncident, ShiftPage, plan_names_schedule
from bot.domain.incidents import Status, reference
from storage.core_sql import dialect_insert, run, table_of
from storage.handover_models import (
    HandoverNoteRow,
    RoundRobinPickRow,
    RoundRobinTurnRow,
    ShiftHolderRow,
    UserGroupSyncRow,
)
from storage.models import AlertGroupRow, AlertRow, IncidentRow, PageRow

_NOTES = table_of(HandoverNoteRow)
_HOLDERS = table_of(ShiftHolderRow)
_TURNS = table_of(RoundRobinTurnRow)
_PICKS = table_of(RoundRobinPickRow)
_SYNCS = table_of(UserGroupSyncRow)
_PAGES = table_of(PageRow)
_INCIDENTS = table_of(IncidentRow)
_ALERTS = table_of(AlertRow)
_GROUPS = table_of(AlertGroupRow)
_OPEN = [s.value for s in Status if s.is_open]
SCANNED = 500  # pages or alerts read for one digest at most (a digest shows far fewer)


class HandoverRecords:
    """Handover notes, handoffs seen, round-robin turns, user-group syncs, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    # ----- notes ----------------------------------------------------------------------------------
    async def add_note(self, schedule: str, *, author: str, text: str, now: datetime) -> None:
        """Keep a note for `schedule`'s next handover."""
        await self._session.exec(sa.insert(_NOTES).values(schedule=schedule, author=author, text=text, created_at=now))

    async def notes(self, schedule: str, *, since: datetime | None, until: datetime) -> list[HandoverNote]:
        """The notes left for `schedule` in [since, until), oldest first."""
        statement = (
            sa.select(_NOTES.c.author, _NOTES.c.text, _NOTES.c.created_at)
            .where(_NOTES.c.schedule == schedule, _NOTES.c.created_at < until)
            .order_by(_NOTES.c.created_at, _NOTES.c.id)
        )
        if since is not None:
            statement = statement.where(_NOTES.c.created_at >= since)
        return [HandoverNote(r.author, r.text, r.created_at) for r in await run(self._session, statement)]

    # ----- who is on call, as last seen -----------------------------------------------------------
    async def holder(self, schedule: str) -> tuple[str | None, datetime] | None:
        """Who was last seen on call for `schedule` and since when (None: never looked at)."""
        statement = sa.select(_HOLDERS.c.holder, _HOLDERS.c.since).where(_HOLDERS.c.schedule == schedule)
        row = (await run(self._session, statement)).first()
        return (row.holder, row.since) if row is not None else None

    async def first_look(self, schedule: str, *, holder: str | None, now: datetime) -> bool:
        """Record who is on call for a schedule never looked at before; whether this call did."""
        insert = dialect_insert(self._session, _HOLDERS).values(schedule=schedule, holder=holder, since=now)
        result = await self._session.exec(insert.on_conflict_do_nothing(index_elements=["schedule"]))
        return bool(result.rowcount)

    async def hand_over(self, schedule: str, *, expected: str | None, incoming: str | None, now: datetime) -> bool:
        """Record `incoming` as on call if `expected` still is (one replica wins); whether this call did."""
        statement = (
            sa.update(_HOLDERS)
            .where(_HOLDERS.c.schedule == schedule, _HOLDERS.c.holder.is_not_distinct_from(expected))
            .values(holder=incoming, since=now)
        )
        result = await self._session.exec(statement)
        return bool(result.rowcount)

    # ----- round robin ----------------------------------------------------------------------------
    async def next_turn(self, tier_key: str) -> int:
        """Take a round-robin tier's next turn (0, 1, 2…), atomically across replicas: one statement that
        inserts the counter or adds one to it under the row's lock."""
        insert = dialect_insert(self._session, _TURNS).values(tier_key=tier_key, turns=0)
        upsert = insert.on_conflict_do_update(
            index_elements=["tier_key"], set_={"turns": _TURNS.c.turns + 1}
        ).returning(_TURNS.c.turns)
        return int((await self._session.exec(upsert)).scalar_one())

    async def pick(self, page_id: int, tier: int) -> str | None:
        """Whom a page's round-robin tier notified already, if anyone."""
        statement = sa.select(_PICKS.c.user_id).where(_PICKS.c.page_id == page_id, _PICKS.c.tier == tier)
        row = (await run(self._session, statement)).first()
        return str(row.user_id) if row is not None else None

    async def keep_pick(self, page_id: int, tier: int, user_id: str) -> None:
        """Remember whom a page's round-robin tier notifies (replacing someone no longer among its targets)."""
        insert = dialect_insert(self._session, _PICKS).values(page_id=page_id, tier=tier, user_id=user_id)
        await self._session.exec(
            insert.on_conflict_do_update(index_elements=["page_id", "tier"], set_={"user_id": user_id})
        )

    # ----- what a digest shows --------------------------------------------------------------------
    async def shift_pages(self, schedule: str, *, since: datetime | None, until: datetime) -> list[ShiftPage]:
        """Pages created in [since, until) whose plan paged `schedule`, oldest first."""
        p = _PAGES.c
        statement = (
            sa.select(p.id, p.title, p.severity, p.status, p.plan, p.created_at, p.acknowledged_by, p.acknowledged_at)
            .where(p.created_at < until)
            .order_by(p.created_at, p.id)
            .limit(SCANNED)
        )
        if since is not None:
            statement = statement.where(p.created_at >= since)
        return [
            ShiftPage(r.id, r.title, r.severity, r.status, r.created_at, r.acknowledged_by, r.acknowledged_at)
            for r in await run(self._session, statement)
            if plan_names_schedule(r.plan or {}, schedule)
        ]

    async def open_incidents(self, services: Collection[str]) -> list[OpenIncident]:
        """The open incidents of `services`, most recent first."""
        if not services:
            return []
        i = _INCIDENTS.c
        statement = (
            sa.select(i.number, i.title, i.severity, i.status, i.channel_id, i.private)
            .where(i.service.in_(list(services)), i.status.in_(_OPEN))
            .order_by(i.declared_at.desc(), i.id.desc())
            .limit(SCANNED)
        )
        return [
            OpenIncident(reference(r.number), r.title, r.severity, r.status, r.channel_id, bool(r.private))
            for r in await run(self._session, statement)
        ]

    async def firing_alerts(self, schedule: str, services: Collection[str]) -> list[FiringAlert]:
        """Alerts still firing whose `service` label is one of `services` or whose page paged `schedule`."""
        a = _ALERTS.c
        statement = (
            sa.select(a.title, a.source, a.labels, a.starts_at, a.first_seen, _PAGES.c.plan)
            .select_from(
                _ALERTS.join(_GROUPS, _GROUPS.c.id == a.group_id).outerjoin(_PAGES, _PAGES.c.id == _GROUPS.c.page_id)
            )
            .where(a.firing.is_(True))
            .order_by(a.first_seen, a.id)
            .limit(SCANNED)
        )
        found: list[FiringAlert] = []
        for r in await run(self._session, statement):
            labels = r.labels if isinstance(r.labels, dict) else {}
            if labels.get("service") in services or (r.plan and plan_names_schedule(r.plan, schedule)):
                found.append(FiringAlert(r.title, r.source, r.starts_at or r.first_seen))
        return found

    # ----- user groups ----------------------------------------------------------------------------
    async def synced(self, schedule: str, *, usergroup: str, users: Sequence[str], outcome: str, now: datetime) -> None:
        """Record how setting a schedule's user group went."""
        values = {"usergroup": usergroup[:100], "users": ",".join(users)[:500], "outcome": outcome[:200], "at": now}
        insert = dialect_insert(self._session, _SYNCS).values(schedule=schedule, **values)
        await self._session.exec(insert.on_conflict_do_update(index_elements=["schedule"], set_=values))
