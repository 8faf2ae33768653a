"""Queries over alert groups and alerts. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.alerts import Alert
from bot.domain.keys import fit_key
from storage.core_sql import run, table_of
from storage.models import AlertGroupRow, AlertRow

_ALERTS = table_of(AlertRow)
_GROUPS = table_of(AlertGroupRow)


def _typed(sql: str, table: sa.Table, *names: str) -> sa.TextClause:
    """SQL that both SQLite and PostgreSQL read alike, its parameters typed as the table's columns. The
    dialects' ON CONFLICT constructs are compiled anew on every use (SQLAlchemy cannot cache them);
    text is compiled once, and a storm of webhooks runs these two statements on every delivery."""
    return sa.text(sql).bindparams(*(sa.bindparam(name, type_=table.c[name].type) for name in names))


_NEW_GROUP = _typed(
    "INSERT INTO alert_groups (source, group_key, created_at, generation) "
    "VALUES (:source, :group_key, :created_at, 0) "
    "ON CONFLICT (source, group_key) DO NOTHING RETURNING id",
    _GROUPS,
    "source",
    "group_key",
    "created_at",
)
_RECORD_ALERTS = _typed(
    "INSERT INTO alerts (source, fingerprint, group_id, firing, title, labels, starts_at, first_seen, "
    "last_seen, times_seen) VALUES (:source, :fingerprint, :group_id, :firing, :title, :labels, :starts_at, "
    ":first_seen, :last_seen, :times_seen) "
    "ON CONFLICT (source, fingerprint) DO UPDATE SET firing = excluded.firing, "
    "last_seen = excluded.last_seen, times_seen = alerts.times_seen + excluded.times_seen",
    _ALERTS,
    *("source", "fingerprint", "group_id", "firing", "title", "labels", "starts_at"),
    *("first_seen", "last_seen", "times_seen"),
)
_FIRST_URL = _typed("UPDATE alert_groups SET url = :url WHERE id = :id AND url IS NULL", _GROUPS, "url", "id")
GROUP_KEY_LENGTH = 500  # the alert_groups.group_key column
URL_LENGTH = 2000  # the alert_groups.url column: a longer link is not kept
FINGERPRINT_LENGTH = 255  # the alerts.fingerprint column


class AlertRecords:
    """Alert groups and alerts, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def group(self, source: str, key: str, *, now: datetime) -> tuple[AlertGroupRow, bool]:
        """The group for `key`, and whether this call created it (exactly one caller does)."""
        key = fit_key(key, GROUP_KEY_LENGTH)
        inserted = await run(self._session, _NEW_GROUP, {"source": source, "group_key": key, "created_at": now})
        if (new_id := inserted.scalar_one_or_none()) is not None:  # a new group: nobody else can see it yet
            return AlertGroupRow(id=new_id, source=source, group_key=key, created_at=now, generation=0), True
        # Row-locked until commit, so concurrent deliveries for one group are handled one after another.
        statement = (
            select(AlertGroupRow)
            .where(AlertGroupRow.source == source, AlertGroupRow.group_key == key)
            .with_for_update()
        )
        return (await self._session.exec(statement)).one(), False

    async def next_generation(self, group_id: int) -> int:
        """The group fires again after resolving: a new generation (and so a new page)."""
        await self._session.exec(
            sa.update(AlertGroupRow)
            .where(col(AlertGroupRow.id) == group_id)
            .values(generation=AlertGroupRow.generation + 1, page_id=None, incident_id=None)
        )
        statement = select(AlertGroupRow.generation).where(AlertGroupRow.id == group_id)
        return int((await self._session.exec(statement)).one())

    async def record(self, group_id: int, source: str, alerts: Sequence[Alert], *, now: datetime) -> None:
        """Store a delivery's alerts, updating those already stored by fingerprint: one statement for
        the whole batch (built once, sent as one executemany); and the group's first link."""
        seen: dict[str, tuple[Alert, int]] = {}
        for alert in alerts:  # one row per fingerprint, however often a delivery repeats it
            key = fit_key(alert.fingerprint, FINGERPRINT_LENGTH)
            seen[key] = (alert, seen[key][1] + 1 if key in seen else 1)
        rows = [
            {
                "source": source,
                "fingerprint": key,
                "group_id": group_id,
                "firing": alert.firing,
                "title": alert.title,
                "labels": alert.labels,
                "starts_at": alert.starts_at,
                "first_seen": now,
                "last_seen": now,
                "times_seen": times,
            }
            for key, (alert, times) in seen.items()
        ]
        if rows:
            await run(self._session, _RECORD_ALERTS, rows)
        # The group keeps the first link a firing alert brought (its dashboard or source): bookmarked in
        # the channel of an incident declared from the group.
        url = next((a.url for a in alerts if a.firing and a.url and len(a.url) <= URL_LENGTH), None)
        if url is not None:
            await run(self._session, _FIRST_URL, {"url": url, "id": group_id})

    async def firing_in(self, group_id: int) -> int:
        """How many alerts of a group are firing."""
        statement = (
            select(sa.func.count()).select_from(AlertRow).where(AlertRow.group_id == group_id, col(AlertRow.firing))
        )
        return int((await self._session.exec(statement)).one())

    async def link(self, group_id: int, *, page_id: int | None = None, incident_id: int | None = None) -> None:
        """Remember the page and incident a group started."""
        values = {k: v for k, v in (("page_id", page_id), ("incident_id", incident_id)) if v is not None}
        await self._session.exec(sa.update(AlertGroupRow).where(col(AlertGroupRow.id) == group_id).values(**values))

    async def count(self) -> tuple[int, int]:
        """(alert groups, alerts) stored."""
        groups = (await self._session.exec(select(sa.func.count()).select_from(AlertGroupRow))).one()
        alerts = (await self._session.exec(select(sa.func.count()).select_from(AlertRow))).one()
        return int(groups), int(alerts)
