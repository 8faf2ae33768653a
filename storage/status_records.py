"""The status page's records within one unit of work: publications and their public updates, what the page
reads, and the Statuspage mirror's copies. Never commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.status_page import Publication, PublicIncident, PublicStatus, PublicUpdate
from storage.core_sql import dialect_insert, run, table_of
from storage.event_models import EventRow
from storage.models import IncidentRow
from storage.status_models import PublicIncidentRow, PublicUpdateRow, StatuspageIncidentRow

_published = table_of(PublicIncidentRow)
_updates = table_of(PublicUpdateRow)
_mirrors = table_of(StatuspageIncidentRow)
_incidents = table_of(IncidentRow)
_events = table_of(EventRow)


class StatusRecords:
    """Publications, public updates and Statuspage copies, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    # ----- publishing ----------------------------------------------------------------------------
    async def publication(self, incident_id: int) -> Publication | None:
        """The incident's publication (None: it has never been on the status page)."""
        p = _published.c
        statement = sa.select(p.public_id, p.title, p.status).where(p.incident_id == incident_id)
        row = (await run(self._session, statement)).first()
        return None if row is None else Publication(row.public_id, row.title, PublicStatus(row.status))

    async def publish(
        self,
        incident_id: int,
        *,
        public_id: str,
        title: str,
        status: PublicStatus,
        body: str,
        now: datetime,
        by: str | None,
        retitle: bool = False,
    ) -> tuple[Publication, int]:
        """Add a public update (the first one puts the incident on the page with `public_id` and `title`;
        a later one changes the title only with `retitle`); the publication and the update's id."""
        p = _published.c
        await self._session.exec(
            dialect_insert(self._session, _published)
            .values(
                incident_id=incident_id,
                public_id=public_id,
                title=title,
                status=status.value,
                published_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["incident_id"])
        )
        changes: dict[str, Any] = {"status": status.value, "updated_at": now}
        if retitle:
            changes["title"] = title
        await self._session.exec(sa.update(_published).where(p.incident_id == incident_id).values(**changes))
        update_id = (
            await self._session.exec(
                sa.insert(_updates)
                .values(incident_id=incident_id, status=status.value, body=body, posted_at=now, posted_by=by)
                .returning(_updates.c.id)
            )
        ).scalar_one()
        publication = await self.publication(incident_id)
        assert publication is not None
        return publication, int(update_id)

    # ----- what the page shows -----------------------------------------------------------------
    async def published(self, *, since: datetime) -> list[PublicIncident]:
        """Every published incident still open on the page, or updated since `since`, with its updates."""
        p, i = _published.c, _incidents.c
        statement = (
            sa.select(p.incident_id, p.public_id, p.title, i.severity, i.service, i.private)
            .select_from(_published.join(_incidents, i.id == p.incident_id))
            .where(sa.or_(p.status != PublicStatus.RESOLVED.value, p.updated_at >= since))
        )
        rows = (await run(self._session, statement)).all()
        if not rows:
            return []
        u = _updates.c
        updates = sa.select(u.id, u.incident_id, u.status, u.body, u.posted_at).where(
            u.incident_id.in_([row.incident_id for row in rows])
        )
        by_incident: dict[int, list[PublicUpdate]] = defaultdict(list)
        for update in (await run(self._session, updates.order_by(u.posted_at, u.id))).all():
            by_incident[update.incident_id].append(
                PublicUpdate(update.id, PublicStatus(update.status), update.body, update.posted_at)
            )
        return [
            PublicIncident(
                row.public_id,
                row.title,
                row.severity,
                row.service,
                tuple(by_incident[row.incident_id]),
                private=bool(row.private),
            )
            for row in rows
        ]

    async def version(self) -> int:
        """The event log's newest position: it moves whenever anything the page shows may have changed."""
        statement = sa.select(sa.func.coalesce(sa.func.max(_events.c.seq), 0))
        return int((await run(self._session, statement)).scalar_one())

    # ----- the Statuspage mirror ---------------------------------------------------------------
    async def mirrored(self, incident_id: int, page_id: str) -> tuple[str, int] | None:
        """The incident's id on the Statuspage page and the newest update sent there (None: not there yet)."""
        m = _mirrors.c
        statement = sa.select(m.statuspage_id, m.last_update_id).where(
            m.incident_id == incident_id, m.page_id == page_id
        )
        row = (await run(self._session, statement)).first()
        return None if row is None else (str(row.statuspage_id), int(row.last_update_id))

    async def mirror(
        self, incident_id: int, page_id: str, *, statuspage_id: str, update_id: int, now: datetime
    ) -> None:
        """Record that update `update_id` reached the page, as its incident `statuspage_id`."""
        m = _mirrors.c
        statement = (
            dialect_insert(self._session, _mirrors)
            .values(
                incident_id=incident_id,
                page_id=page_id,
                statuspage_id=statuspage_id,
                last_update_id=update_id,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["incident_id", "page_id"])
        )
        await self._session.exec(statement)
        await self._session.exec(
            sa.update(_mirrors)
            .where(m.incident_id == incident_id, m.page_id == page_id, m.last_update_id < update_id)
            .values(last_update_id=update_id)
        )
