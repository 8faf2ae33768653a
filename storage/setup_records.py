"""Incidents whose set-up in Slack is unfinished (a declare that died mid-way, or steps Slack refused for
now): claimed under a lease by the timer tick, so one replica finishes each. Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.incidents import Incident
from storage.core_sql import table_of
from storage.incident_records import IncidentRecords
from storage.incident_rows import incident_from_row
from storage.leases import Lease
from storage.models import IncidentRow, UTCDateTime

_incidents = table_of(IncidentRow)
UNFINISHED_SETUP = Lease(_incidents, due="setup_at", claim="setup_claim", until="setup_claimed_until")
_by_id = _incidents.c.id == sa.bindparam("row_id")
_UNCLAIMED_OR_OURS = sa.or_(_incidents.c.setup_claim.is_(None), _incidents.c.setup_claim == sa.bindparam("token"))
PROGRESS = sa.update(_incidents).where(_by_id, _UNCLAIMED_OR_OURS).values(setup_at=sa.bindparam("due", UTCDateTime()))
FINISHED = (
    sa.update(_incidents)
    .where(_by_id, _UNCLAIMED_OR_OURS)
    .values(setup_at=None, setup_claim=None, setup_claimed_until=None)
)
_due = sa.bindparam("due", type_=UTCDateTime())
# A set-up still being worked on: its due time (and the sweep's lease, when the sweep runs it) moves on, so
# nobody takes it over; never revives one that has finished.
KEEP_ALIVE = (
    sa.update(_incidents)
    .where(_by_id, _UNCLAIMED_OR_OURS, _incidents.c.setup_at.is_not(None))
    .values(
        setup_at=_due,
        setup_claimed_until=sa.case((_incidents.c.setup_claim.is_(None), None), else_=_due),
    )
)
RETRY_LATER = (
    sa.update(_incidents)
    .where(_by_id, _UNCLAIMED_OR_OURS)
    .values(
        setup_at=sa.bindparam("due", UTCDateTime()),
        setup_attempts=_incidents.c.setup_attempts + 1,
        setup_claim=None,
        setup_claimed_until=None,
    )
)


class SetupRecords:
    """The unfinished-set-up timer, within one session."""

    def __init__(self, session: AsyncSession, incidents: IncidentRecords) -> None:
        """Work inside the unit of work's session (incidents: for the roles of a claimed incident)."""
        self._session = session
        self._incidents = incidents

    async def claim(self, *, now: datetime, lease: timedelta, token: str, limit: int) -> list[Incident]:
        """Unfinished set-ups due by `now`, taken for `lease` (replicas skip each other's)."""
        rows = await UNFINISHED_SETUP.claim_due(self._session, now=now, lease=lease, token=token, limit=limit)
        if not rows:
            return []
        roles = await self._incidents.roles_of([r.id for r in rows])
        return [incident_from_row(r, roles.get(r.id, {})) for r in rows]

    async def progress(self, incident_id: int, *, finish_by: datetime, token: str | None = None) -> None:
        """A step was recorded: nobody else should take the set-up over before `finish_by`."""
        await self._session.exec(PROGRESS, params={"row_id": incident_id, "due": finish_by, "token": token})

    async def keep_alive(self, incident_id: int, *, until: datetime, token: str | None = None) -> None:
        """The set-up is still running here: nobody else should take it over before `until`."""
        await self._session.exec(KEEP_ALIVE, params={"row_id": incident_id, "due": until, "token": token})

    async def finished(self, incident_id: int, *, token: str | None = None) -> None:
        """Every step is done: the set-up timer stops."""
        await self._session.exec(FINISHED, params={"row_id": incident_id, "token": token})

    async def retry_later(self, incident_id: int, *, due: datetime, token: str | None = None) -> None:
        """Some steps failed for now: try again at `due`."""
        await self._session.exec(RETRY_LATER, params={"row_id": incident_id, "due": due, "token": token})
