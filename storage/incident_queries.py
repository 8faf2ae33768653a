"""The REST API's reads: incidents filtered and sorted, one page at a time by key (never by offset), an
incident's timeline from a key, follow-ups across incidents, the event log, and the stats figures, each
with or without private incidents. Every read opens its own short read-only session (no write lock on
SQLite), so the API's reads never queue behind writers.

Keyset pagination: a page ends with the last row's (sort value, id), and the next page starts after it,
so a page costs the same however deep it is and rows added meanwhile are neither skipped nor repeated.
Every sort is served by an index: (team_id, declared_at) and (team_id, number) for incidents,
(incident_id, occurred_at, id) for a timeline, the primary keys for follow-ups and events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.events import DomainEvent
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, Status, TimelineEntry, TimelineKind
from bot.domain.stats import IncidentStats, WindowIncident, summarise
from storage.core_sql import table_of
from storage.db import READ_ONLY
from storage.event_records import EventRecords
from storage.follow_up_records import follow_up_from_row
from storage.incident_rows import incident_from_row
from storage.models import FollowUpRow, IncidentRow, RoleAssignmentRow, TimelineEventRow
from storage.stats_records import epoch_seconds

OPEN_STATUSES = [s.value for s in Status if s.is_open]
_incidents = table_of(IncidentRow)
_timeline = table_of(TimelineEventRow)
_follow_ups = table_of(FollowUpRow)
_roles = table_of(RoleAssignmentRow)
SORTS = {"declared_at": _incidents.c.declared_at, "number": _incidents.c.number}
_CURRENT_ROLES = sa.select(_roles.c.incident_id, _roles.c.role, _roles.c.user_id).where(
    _roles.c.incident_id.in_(sa.bindparam("ids", expanding=True)), _roles.c.ended_at.is_(None)
)
_READ_ONLY = {READ_ONLY: True}
CLOCK_SKEW = timedelta(days=1)  # replicas' clocks disagree a little: a margin on bounds derived from times


class IncidentQueries:
    """The API's queries, each in a read-only session of its own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Open sessions from the given factory (the unit of work's)."""
        self._sessions = sessions

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only session; closing it gives its connection back to the pool, which rolls it back."""
        async with self._sessions() as session:
            await session.connection(execution_options=_READ_ONLY)
            yield session

    async def incidents(
        self,
        *,
        team_id: str,
        include_private: bool,
        sort: str = "-declared_at",
        after: tuple[datetime | int, int] | None = None,
        limit: int = 50,
        status: str | None = None,
        severity: str | None = None,
        service: str | None = None,
        private: bool | None = None,
        declared_after: datetime | None = None,
        declared_before: datetime | None = None,
        resolved_after: datetime | None = None,
        resolved_before: datetime | None = None,
        text: str | None = None,
    ) -> list[Incident]:
        """Up to `limit` incidents matching every filter given, in `sort` order (`declared_at` or `number`,
        `-` first for newest first), starting after the key `after` (the last row of the page before).
        `status` may be `open` (any open status). `text` is found in titles and descriptions, any case."""
        descending = sort.startswith("-")
        column = SORTS[sort.removeprefix("-")]
        ident = _incidents.c.id
        where: list[sa.ColumnElement[bool]] = [_incidents.c.team_id == team_id]
        if not include_private:
            where.append(_incidents.c.private.is_(False))
        if private is not None:
            where.append(_incidents.c.private.is_(private))
        if status == "open":
            where.append(_incidents.c.status.in_(OPEN_STATUSES))
        elif status is not None:
            where.append(_incidents.c.status == status)
        if severity is not None:
            where.append(_incidents.c.severity == severity)
        if service is not None:
            where.append(_incidents.c.service == service)
        where += _between(_incidents.c.declared_at, declared_after, declared_before)
        where += _between(_incidents.c.resolved_at, resolved_after, resolved_before)
        if text:
            where.append(
                sa.or_(
                    _incidents.c.title.icontains(text, autoescape=True),
                    _incidents.c.description.icontains(text, autoescape=True),
                )
            )
        if resolved_before is not None:  # resolved after it was declared: the declared_at index skips ahead
            where.append(_incidents.c.declared_at < resolved_before + CLOCK_SKEW)
        if after is not None:
            value, last_id = after
            beyond = (column < value) if descending else (column > value)
            same = (ident < last_id) if descending else (ident > last_id)
            # The plain bound lets the index start at the key; the OR alone would have it read from the top.
            where += [
                (column <= value) if descending else (column >= value),
                sa.or_(beyond, sa.and_(column == value, same)),
            ]
        order = (column.desc(), ident.desc()) if descending else (column.asc(), ident.asc())
        statement = sa.select(_incidents).where(*where).order_by(*order).limit(limit)
        async with self._reading() as session:
            # Plain rows from the connection: the ORM's bookkeeping was most of a page's time.
            connection = await session.connection()
            rows = (await connection.execute(statement)).all()
            roles: dict[int, dict[str, str]] = {}
            if rows:
                held = await connection.execute(_CURRENT_ROLES, {"ids": [row.id for row in rows]})
                for incident_id, role, user_id in held:
                    roles.setdefault(incident_id, {})[role] = user_id
        return [incident_from_row(row, roles.get(row.id, {})) for row in rows]

    async def timeline(
        self,
        incident_id: int,
        *,
        kinds: Collection[TimelineKind] = (),
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[tuple[int, TimelineEntry]]:
        """Up to `limit` entries of an incident's timeline (of `kinds`, if given), oldest first, after the
        key `after` (an entry's time and id); each with its id."""
        when, ident = _timeline.c.occurred_at, _timeline.c.id
        statement = sa.select(_timeline).where(_timeline.c.incident_id == incident_id)
        if kinds:
            statement = statement.where(_timeline.c.kind.in_([k.value for k in kinds]))
        if after is not None:
            statement = statement.where(
                when >= after[0], sa.or_(when > after[0], sa.and_(when == after[0], ident > after[1]))
            )
        statement = statement.order_by(when, ident).limit(limit)
        async with self._reading() as session:
            rows = (await (await session.connection()).execute(statement)).all()
        return [(r.id, _entry(r)) for r in rows]

    async def follow_ups(
        self,
        *,
        team_id: str,
        include_private: bool,
        incident_id: int | None = None,
        state: str | None = None,
        owner: str | None = None,
        overdue_on: date | None = None,
        after: int | None = None,
        limit: int = 50,
    ) -> list[FollowUp]:
        """Up to `limit` follow-ups (of one incident, if given) in the order they were made, after the id
        `after`: `state` `open` or `done`, of `owner`, or (`overdue_on` a day) open and due before it."""
        where: list[sa.ColumnElement[bool]] = [_incidents.c.team_id == team_id]
        if not include_private:
            where.append(_incidents.c.private.is_(False))
        if incident_id is not None:
            where.append(_follow_ups.c.incident_id == incident_id)
        if state == "open":
            where.append(_follow_ups.c.done_at.is_(None))
        elif state == "done":
            where.append(_follow_ups.c.done_at.is_not(None))
        if owner is not None:
            where.append(_follow_ups.c.owner == owner)
        if overdue_on is not None:
            where += [_follow_ups.c.done_at.is_(None), _follow_ups.c.due_on < overdue_on]
        if after is not None:
            where.append(_follow_ups.c.id > after)
        statement = (
            sa.select(_follow_ups, _incidents.c.number)
            .join(_incidents, _incidents.c.id == _follow_ups.c.incident_id)
            .where(*where)
            .order_by(_follow_ups.c.id)
            .limit(limit)
        )
        async with self._reading() as session:
            rows = (await (await session.connection()).execute(statement)).all()
        return [follow_up_from_row(row, row.number) for row in rows]

    async def events(
        self,
        *,
        after: int,
        limit: int,
        include_private: bool,
        kinds: Collection[str] = (),
        incident_id: int | None = None,
    ) -> list[tuple[int, DomainEvent]]:
        """Events after position `after`, oldest first, with their positions."""
        async with self._reading() as session:
            return await EventRecords(session).after(
                after, limit=limit, include_private=include_private, kinds=kinds, incident_id=incident_id
            )

    async def stats(
        self, team_id: str, *, since: datetime | None, now: datetime, today: date, include_private: bool
    ) -> IncidentStats:
        """The figures `/incident stats` shows (storage/stats_records.py computes them the same way), of
        the public incidents only unless `include_private`, and their follow-ups."""
        where: list[sa.ColumnElement[bool]] = [_incidents.c.team_id == team_id]
        if not include_private:
            where.append(_incidents.c.private.is_(False))
        window = list(where)
        if since is not None:
            window.append(_incidents.c.declared_at >= since)
        statement: sa.Select[Any] = sa.select(
            _incidents.c.severity.label("severity"),
            epoch_seconds(_incidents.c.declared_at).label("declared"),
            epoch_seconds(_incidents.c.started_at).label("started"),
            epoch_seconds(_incidents.c.acknowledged_at).label("acknowledged"),
            epoch_seconds(_incidents.c.resolved_at).label("resolved"),
            _incidents.c.service.label("service"),
            _incidents.c.detected_via.label("detected_via"),
        ).where(*window)
        overdue = sa.case((_follow_ups.c.due_on < today, 1), else_=0)
        follow_ups = (
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(overdue), 0))
            .select_from(_follow_ups)
            .join(_incidents, _incidents.c.id == _follow_ups.c.incident_id)
            .where(_follow_ups.c.done_at.is_(None), *where)
        )
        async with self._reading() as session:
            connection = await session.connection()
            incidents = cast(list[WindowIncident], (await connection.execute(statement)).all())
            open_count, late = (await connection.execute(follow_ups)).one()
        return summarise(
            incidents, since=since, until=now, open_follow_ups=int(open_count), overdue_follow_ups=int(late)
        )


def _between(column: Any, start: datetime | None, end: datetime | None) -> Sequence[sa.ColumnElement[bool]]:
    """`start <= column < end`, for the bounds given."""
    bounds: list[sa.ColumnElement[bool]] = []
    if start is not None:
        bounds.append(column >= start)
    if end is not None:
        bounds.append(column < end)
    return bounds


def _entry(row: Any) -> TimelineEntry:
    """A timeline entry from its row."""
    return TimelineEntry(
        TimelineKind(row.kind), row.occurred_at, row.actor, row.text, row.source, row.permalink, row.thread_ts
    )
