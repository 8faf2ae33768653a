"""Incident metrics read in SQL that runs on SQLite and PostgreSQL alike, summed up in the domain.

One dialect shim (a timestamp as seconds since the epoch) is compiled per dialect. The window's
incidents are read in one pass as numbers and summed up in Python (bot/domain/stats.py): over 100,000
incidents that is several times faster than a query per figure with window functions for medians.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.incidents import Status
from bot.domain.stats import IncidentStats, WindowIncident, summarise
from storage.models import FollowUpRow, IncidentRow


class epoch_seconds(FunctionElement[float]):
    """Seconds from 1970-01-01 UTC to a timestamp."""

    type = sa.Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (when,) = list(element.clauses)
    return f"((julianday({compiler.process(when, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (when,) = list(element.clauses)
    return f"date_part('epoch', {compiler.process(when, **kw)})"  # a float (EXTRACT gives numeric)


class StatsRecords:
    """The metrics of one workspace over a window, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def incident_stats(
        self, team_id: str, *, since: datetime | None, now: datetime, today: date, incident_type: str | None = None
    ) -> IncidentStats:
        """Every figure `/incident stats` shows, for incidents declared since `since` (None: all time), of
        `incident_type` only if given: one pass over the window's incidents (times turned into seconds by
        the database), summed up in `bot.domain.stats.summarise`, and one count of follow-ups."""
        in_window = [col(IncidentRow.team_id) == team_id]
        if since is not None:
            in_window.append(col(IncidentRow.declared_at) >= since)
        if incident_type is not None:
            in_window.append(col(IncidentRow.incident_type) == incident_type)
        window: sa.Select[Any] = sa.select(  # typed by the cast to WindowIncident below
            col(IncidentRow.severity).label("severity"),
            epoch_seconds(col(IncidentRow.declared_at)).label("declared"),
            epoch_seconds(col(IncidentRow.started_at)).label("started"),
            epoch_seconds(col(IncidentRow.acknowledged_at)).label("acknowledged"),
            epoch_seconds(col(IncidentRow.resolved_at)).label("resolved"),
            col(IncidentRow.service).label("service"),
            col(IncidentRow.detected_via).label("detected_via"),
        ).where(*in_window)
        # Plain rows from the connection (the ORM's per-row bookkeeping doubled the time over 25,000
        # rows); each row has WindowIncident's fields by name.
        connection = await self._session.connection()
        incidents = cast(list[WindowIncident], (await connection.execute(window)).all())
        open_follow_ups, overdue = await self._follow_ups(team_id, overdue_before=today, incident_type=incident_type)
        return summarise(incidents, since=since, until=now, open_follow_ups=open_follow_ups, overdue_follow_ups=overdue)

    async def open_by_severity(self) -> dict[str, int]:
        """Open incidents per severity, every workspace (for the /metrics gauge)."""
        open_statuses = [s.value for s in Status if s.is_open]
        statement = (
            select(col(IncidentRow.severity), sa.func.count())
            .where(col(IncidentRow.status).in_(open_statuses))
            .group_by(col(IncidentRow.severity))
        )
        return {severity: int(n) for severity, n in (await self._session.exec(statement)).all()}

    async def _follow_ups(
        self, team_id: str, *, overdue_before: date, incident_type: str | None = None
    ) -> tuple[int, int]:
        """Follow-ups not done in the workspace (of incidents of `incident_type`, if given), and how many of
        them are overdue (read from the follow-ups, each checked against its incident, never the other way
        round)."""
        of_incident = [col(IncidentRow.id) == col(FollowUpRow.incident_id), col(IncidentRow.team_id) == team_id]
        if incident_type is not None:
            of_incident.append(col(IncidentRow.incident_type) == incident_type)
        of_team = sa.exists().where(*of_incident)
        overdue = sa.case((col(FollowUpRow.due_on) < overdue_before, 1), else_=0)
        statement = select(sa.func.count(), sa.func.coalesce(sa.func.sum(overdue), 0)).where(
            col(FollowUpRow.done_at).is_(None), of_team
        )
        count, late = (await self._session.exec(statement)).one()
        return int(count), int(late)
