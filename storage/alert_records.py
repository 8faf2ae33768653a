"""Queries over alert groups and alerts. Never commits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts import Alert
from bot.keys import fit_key
from storage.models import AlertGroupRow, AlertRow

GROUP_KEY_LENGTH = 500  # the alert_groups.group_key column
FINGERPRINT_LENGTH = 255  # the alerts.fingerprint column


class AlertRecords:
    """Alert groups and alerts, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    def _insert(self, table: type) -> sa.Insert:
        insert = postgresql.insert if self._session.bind.dialect.name == "postgresql" else sqlite.insert
        return insert(table)  # type: ignore[no-any-return]

    async def group(self, source: str, key: str, *, now: datetime) -> tuple[AlertGroupRow, bool]:
        """The group for `key`, and whether this call created it (exactly one caller does)."""
        key = fit_key(key, GROUP_KEY_LENGTH)
        created = await self._session.exec(
            self._insert(AlertGroupRow).values(source=source, group_key=key, created_at=now).on_conflict_do_nothing()
        )
        # Row-locked until commit, so concurrent deliveries for one group are handled one after another.
        statement = (
            select(AlertGroupRow)
            .where(AlertGroupRow.source == source, AlertGroupRow.group_key == key)
            .with_for_update()
        )
        row = (await self._session.exec(statement)).one()
        return row, bool(created.rowcount)

    async def next_generation(self, group_id: int) -> int:
        """The group fires again after resolving: a new generation (and so a new page)."""
        await self._session.exec(
            sa.update(AlertGroupRow)
            .where(col(AlertGroupRow.id) == group_id)
            .values(generation=AlertGroupRow.generation + 1, page_id=None, incident_id=None)
        )
        statement = select(AlertGroupRow.generation).where(AlertGroupRow.id == group_id)
        return int((await self._session.exec(statement)).one())

    async def record(self, group_id: int, source: str, alert: Alert, *, now: datetime) -> None:
        """Store an alert, or update the one with the same fingerprint."""
        values = {
            "source": source,
            "fingerprint": fit_key(alert.fingerprint, FINGERPRINT_LENGTH),
            "group_id": group_id,
            "firing": alert.firing,
            "title": alert.title,
            "labels": alert.labels,
            "starts_at": alert.starts_at,
            "first_seen": now,
            "last_seen": now,
        }
        await self._session.exec(
            self._insert(AlertRow)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[AlertRow.source, AlertRow.fingerprint],
                set_={"firing": alert.firing, "last_seen": now, "times_seen": AlertRow.times_seen + 1},
            )
        )

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
