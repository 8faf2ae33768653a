"""Incident metrics computed in SQL that runs on SQLite and PostgreSQL alike.

Two small dialect shims (seconds between two timestamps, the Monday of a timestamp's week) are compiled
per dialect; medians use window functions (ROW_NUMBER / COUNT OVER), which both support.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import Status
from bot.stats import Durations, IncidentStats, SeverityStats
from storage.models import FollowUpRow, IncidentRow


class seconds_between(FunctionElement[float]):
    """Seconds from the first timestamp to the second."""

    type = sa.Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


class week_of(FunctionElement[str]):
    """The Monday (UTC) of a timestamp's week, as YYYY-MM-DD."""

    type = sa.String()
    inherit_cache = True


@compiles(week_of, "sqlite")
def _week_sqlite(element: week_of, compiler: Any, **kw: Any) -> str:
    (when,) = list(element.clauses)
    return f"date({compiler.process(when, **kw)}, '-6 days', 'weekday 1')"


@compiles(week_of, "postgresql")
def _week_postgresql(element: week_of, compiler: Any, **kw: Any) -> str:
    (when,) = list(element.clauses)
    return f"to_char(date_trunc('week', {compiler.process(when, **kw)} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


_MEASURES = {
    # measure → (from, to)
    "detect": (col(IncidentRow.started_at), col(IncidentRow.declared_at)),
    "acknowledge": (col(IncidentRow.declared_at), col(IncidentRow.acknowledged_at)),
    "resolve": (col(IncidentRow.declared_at), col(IncidentRow.resolved_at)),
}


class StatsQueries:
    """The metrics of one workspace over a window, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def incident_stats(
        self, team_id: str, *, since: datetime | None, now: datetime, today: date
    ) -> IncidentStats:
        """Every figure `/incident stats` shows, for incidents declared since `since` (None: all time)."""
        in_window = [col(IncidentRow.team_id) == team_id]
        if since is not None:
            in_window.append(col(IncidentRow.declared_at) >= since)
        counts = await self._rows(
            sa.select(col(IncidentRow.severity), sa.func.count()).where(*in_window).group_by(col(IncidentRow.severity))
        )
        measures = {name: await self._durations(start, end, in_window) for name, (start, end) in _MEASURES.items()}
        by_severity = [
            SeverityStats(
                severity=severity,
                incidents=int(n),
                detect=measures["detect"].get(severity, Durations()),
                acknowledge=measures["acknowledge"].get(severity, Durations()),
                resolve=measures["resolve"].get(severity, Durations()),
            )
            for severity, n in counts
        ]
        return IncidentStats(
            since=since,
            until=now,
            total=sum(s.incidents for s in by_severity),
            by_severity=by_severity,
            weekly={
                week: {severity: int(n) for severity, n in counts.items()}
                for week, counts in (await self._by_week(sa.func.count(), in_window)).items()
            },
            weekly_mttr=await self._by_week(
                sa.func.avg(seconds_between(col(IncidentRow.declared_at), col(IncidentRow.resolved_at))),
                [*in_window, col(IncidentRow.resolved_at).is_not(None)],
            ),
            with_service=await self._scalar(
                sa.select(sa.func.count()).where(*in_window, col(IncidentRow.service).is_not(None))
            ),
            repeats=await self._repeats(in_window, since),
            detected_via={
                str(via or "unknown"): int(n)
                for via, n in await self._rows(
                    sa.select(col(IncidentRow.detected_via), sa.func.count())
                    .where(*in_window)
                    .group_by(col(IncidentRow.detected_via))
                )
            },
            open_follow_ups=await self._follow_ups(team_id),
            overdue_follow_ups=await self._follow_ups(team_id, overdue_before=today),
        )

    async def open_by_severity(self) -> dict[str, int]:
        """Open incidents per severity, every workspace (for the /metrics gauge)."""
        open_statuses = [s.value for s in Status if s.is_open]
        rows = await self._rows(
            sa.select(col(IncidentRow.severity), sa.func.count())
            .where(col(IncidentRow.status).in_(open_statuses))
            .group_by(col(IncidentRow.severity))
        )
        return {severity: int(n) for severity, n in rows}

    async def _durations(
        self, start: sa.ColumnElement[Any], end: sa.ColumnElement[Any], in_window: list[sa.ColumnElement[bool]]
    ) -> dict[str, Durations]:
        """Median and mean seconds from `start` to `end` per severity (incidents with both, in order)."""
        seconds = seconds_between(start, end)
        measured = (
            sa.select(col(IncidentRow.severity).label("severity"), seconds.label("s"))
            .where(*in_window, start.is_not(None), end.is_not(None), end >= start)
            .subquery()
        )
        ranked = sa.select(
            measured.c.severity,
            measured.c.s,
            sa.func.row_number().over(partition_by=measured.c.severity, order_by=measured.c.s).label("rn"),
            sa.func.count().over(partition_by=measured.c.severity).label("n"),
        ).subquery()
        # The middle one (odd n) or the mean of the middle two (even n); integer division in both dialects.
        middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
        medians = dict(
            await self._rows(
                sa.select(ranked.c.severity, sa.func.avg(ranked.c.s)).where(middle).group_by(ranked.c.severity)
            )
        )
        found: dict[str, Durations] = {}
        for severity, mean, count in await self._rows(
            sa.select(measured.c.severity, sa.func.avg(measured.c.s), sa.func.count()).group_by(measured.c.severity)
        ):
            found[severity] = Durations(count=int(count), median=float(medians[severity]), mean=float(mean))
        return found

    async def _by_week(
        self, aggregate: sa.ColumnElement[Any], where: list[sa.ColumnElement[bool]]
    ) -> dict[date, dict[str, float]]:
        """`aggregate` over the incidents matching `where`, by week declared (Monday) and severity."""
        week, severity_ = week_of(col(IncidentRow.declared_at)), col(IncidentRow.severity)
        rows = await self._rows(sa.select(week, severity_, aggregate).where(*where).group_by(week, severity_))
        weekly: dict[date, dict[str, float]] = {}
        for monday, severity, value in rows:
            weekly.setdefault(date.fromisoformat(monday), {})[severity] = float(value)
        return dict(sorted(weekly.items()))

    async def _repeats(self, in_window: list[sa.ColumnElement[bool]], since: datetime | None) -> int:
        """Incidents whose service already had an earlier incident within the window."""
        earlier = sa.orm.aliased(IncidentRow)
        before = [
            earlier.team_id == IncidentRow.team_id,
            earlier.service == IncidentRow.service,
            earlier.declared_at < IncidentRow.declared_at,
        ]
        if since is not None:
            before.append(earlier.declared_at >= since)
        return await self._scalar(
            sa.select(sa.func.count()).where(
                *in_window, col(IncidentRow.service).is_not(None), sa.exists(sa.select(earlier.id).where(*before))
            )
        )

    async def _follow_ups(self, team_id: str, *, overdue_before: date | None = None) -> int:
        where = [col(FollowUpRow.done_at).is_(None), col(IncidentRow.team_id) == team_id]
        if overdue_before is not None:
            where.append(col(FollowUpRow.due_on) < overdue_before)
        return await self._scalar(
            sa.select(sa.func.count())
            .select_from(FollowUpRow)
            .join(IncidentRow, col(IncidentRow.id) == col(FollowUpRow.incident_id))
            .where(*where)
        )

    async def _rows(self, statement: sa.Select[Any]) -> list[Any]:
        return list((await self._session.exec(statement)).all())

    async def _scalar(self, statement: sa.Select[Any]) -> int:
        return int((await self._session.exec(statement)).one()[0] or 0)
