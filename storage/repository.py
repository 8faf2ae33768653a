"""Queries over incidents, roles and the timeline. Never commits; returns plain records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import DetectedVia, Incident, NewIncident, Status, TimelineEntry, TimelineKind
from storage.models import IncidentRow, RoleAssignmentRow, TimelineEventRow, WorkspaceCounter


class IncidentRepository:
    """Incidents and what hangs off them, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def next_number(self, team_id: str) -> int:
        """Take the workspace's next incident number.

        The upsert row-locks the counter until the transaction ends, so concurrent declarers queue
        behind each other and a rolled-back declaration gives its number back (no gaps).
        """
        insert = postgresql.insert if self._session.bind.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(WorkspaceCounter)
            .values(team_id=team_id, last_number=1)
            .on_conflict_do_update(
                index_elements=[WorkspaceCounter.team_id],
                set_={"last_number": WorkspaceCounter.last_number + 1},
            )
            .returning(WorkspaceCounter.last_number)
        )
        result = await self._session.exec(statement)
        return int(result.scalar_one())

    async def add(self, new: NewIncident, *, number: int, now: datetime) -> Incident:
        """Store a new incident with its number; the declarer is its first Incident Commander."""
        row = IncidentRow(
            team_id=new.team_id,
            number=number,
            title=new.title,
            severity=new.severity,
            status=Status.INVESTIGATING.value,
            description=new.description,
            detected_via=new.detected_via.value if new.detected_via else None,
            declared_by=new.declared_by,
            declare_key=new.declare_key,
            declared_at=now,
            started_at=new.started_at,
        )
        self._session.add(row)
        await self._session.flush()
        assert row.id is not None
        return _to_incident(row, {})

    async def by_declare_key(self, declare_key: str) -> Incident | None:
        """The incident a given declaration (command or modal) already created."""
        row = (await self._session.exec(select(IncidentRow).where(IncidentRow.declare_key == declare_key))).first()
        return await self._snapshot(row)

    async def get(self, incident_id: int) -> Incident | None:
        """An incident by its database id."""
        return await self._snapshot(await self._session.get(IncidentRow, incident_id))

    async def by_number(self, team_id: str, number: int) -> Incident | None:
        """An incident by its workspace number (INC-n)."""
        statement = select(IncidentRow).where(IncidentRow.team_id == team_id, IncidentRow.number == number)
        return await self._snapshot((await self._session.exec(statement)).first())

    async def by_channel(self, channel_id: str) -> Incident | None:
        """The incident whose channel this is."""
        statement = select(IncidentRow).where(IncidentRow.channel_id == channel_id)
        return await self._snapshot((await self._session.exec(statement)).first())

    async def open_incidents(self, team_id: str) -> list[Incident]:
        """Open incidents in a workspace, most severe first is the caller's choice; here by number."""
        open_statuses = [s.value for s in Status if s.is_open]
        statement = (
            select(IncidentRow)
            .where(IncidentRow.team_id == team_id, col(IncidentRow.status).in_(open_statuses))
            .order_by(col(IncidentRow.number))
        )
        rows = list((await self._session.exec(statement)).all())
        roles = await self._roles_of([r.id for r in rows if r.id is not None])
        return [_to_incident(row, roles.get(row.id or 0, {})) for row in rows]

    async def set_channel(self, incident_id: int, *, channel_id: str, channel_name: str) -> None:
        """Remember the incident's channel."""
        await self._update(incident_id, channel_id=channel_id, channel_name=channel_name)

    async def set_header(self, incident_id: int, *, header_ts: str) -> None:
        """Remember the header message so it can be kept current."""
        await self._update(incident_id, header_ts=header_ts)

    async def assign_role(self, incident_id: int, *, role: str, user_id: str, by: str, now: datetime) -> None:
        """Make `user_id` the holder of `role`, ending the previous holder's assignment."""
        await self._session.exec(
            sa.update(RoleAssignmentRow)
            .where(
                col(RoleAssignmentRow.incident_id) == incident_id,
                col(RoleAssignmentRow.role) == role,
                col(RoleAssignmentRow.ended_at).is_(None),
            )
            .values(ended_at=now)
        )
        self._session.add(
            RoleAssignmentRow(incident_id=incident_id, role=role, user_id=user_id, assigned_by=by, assigned_at=now)
        )

    async def record(self, incident_id: int, *entries: TimelineEntry) -> None:
        """Add entries to an incident's timeline."""
        self._session.add_all(
            TimelineEventRow(
                incident_id=incident_id, kind=e.kind.value, occurred_at=e.occurred_at, actor=e.actor, text=e.text
            )
            for e in entries
        )

    async def timeline(self, incident_id: int) -> list[TimelineEntry]:
        """An incident's timeline, oldest first."""
        statement = (
            select(TimelineEventRow)
            .where(TimelineEventRow.incident_id == incident_id)
            .order_by(col(TimelineEventRow.occurred_at), col(TimelineEventRow.id))
        )
        return [
            TimelineEntry(kind=TimelineKind(r.kind), occurred_at=r.occurred_at, actor=r.actor, text=r.text)
            for r in (await self._session.exec(statement)).all()
        ]

    async def _update(self, incident_id: int, **values: object) -> None:
        await self._session.exec(sa.update(IncidentRow).where(col(IncidentRow.id) == incident_id).values(**values))

    async def _roles_of(self, incident_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        if not incident_ids:
            return {}
        statement = select(RoleAssignmentRow).where(
            col(RoleAssignmentRow.incident_id).in_(incident_ids), col(RoleAssignmentRow.ended_at).is_(None)
        )
        roles: dict[int, dict[str, str]] = {}
        for row in (await self._session.exec(statement)).all():
            roles.setdefault(row.incident_id, {})[row.role] = row.user_id
        return roles

    async def _snapshot(self, row: IncidentRow | None) -> Incident | None:
        if row is None or row.id is None:
            return None
        roles = await self._roles_of([row.id])
        return _to_incident(row, roles.get(row.id, {}))


def _to_incident(row: IncidentRow, roles: dict[str, str]) -> Incident:
    assert row.id is not None
    return Incident(
        id=row.id,
        team_id=row.team_id,
        number=row.number,
        title=row.title,
        severity=row.severity,
        status=Status(row.status),
        declared_by=row.declared_by,
        declared_at=row.declared_at,
        description=row.description,
        detected_via=DetectedVia(row.detected_via) if row.detected_via else None,
        started_at=row.started_at,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        header_ts=row.header_ts,
        roles=dict(roles),
    )
