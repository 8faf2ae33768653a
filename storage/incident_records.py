"""Queries over incidents, roles and the timeline. Never commits; returns plain records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.domain.errors import AlreadyStored
from bot.domain.incidents import Incident, NewIncident, RoleSpan, Status, TimelineEntry, TimelineKind
from storage.core_sql import dialect_insert, run, table_of
from storage.incident_rows import incident_from_row, timeline_values
from storage.models import (
    HomeViewerRow,
    IncidentRow,
    MessageCaptureRow,
    ProcessedEventRow,
    RoleAssignmentRow,
    TimelineEventRow,
    WorkspaceCounter,
)

_roles = table_of(RoleAssignmentRow)
# Every incident load reads its roles: built once, with the ids bound.
_CURRENT_ROLES = sa.select(_roles.c.incident_id, _roles.c.role, _roles.c.user_id).where(
    _roles.c.incident_id.in_(sa.bindparam("ids", expanding=True)), _roles.c.ended_at.is_(None)
)


class IncidentRecords:
    """Incidents and what hangs off them, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def next_number(self, team_id: str) -> int:
        """Take the workspace's next incident number.

        The upsert row-locks the counter until the transaction ends, so concurrent declarers queue
        behind each other and a rolled-back declaration gives its number back (no gaps).
        """
        statement = (
            dialect_insert(self._session, WorkspaceCounter)
            .values(team_id=team_id, last_number=1)
            .on_conflict_do_update(
                index_elements=[col(WorkspaceCounter.team_id)],
                set_={"last_number": col(WorkspaceCounter.last_number) + 1},
            )
            .returning(col(WorkspaceCounter.last_number))
        )
        result = await self._session.exec(statement)
        return int(result.scalar_one())

    async def add(
        self,
        new: NewIncident,
        *,
        number: int,
        now: datetime,
        next_update_due: datetime | None = None,
        setup_by: datetime | None = None,
    ) -> Incident:
        """Store a new incident with its number; the declarer is its first Incident Commander.

        AlreadyStored when its declare_key is taken (the same declaration, delivered twice, won the race):
        the session can then only be rolled back, so the caller leaves its unit of work."""
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
            service=new.service,
            private=new.private,
            incident_type=new.incident_type,
            custom_fields=dict(new.custom_fields),
            detected_at=new.detected_at or new.started_at or now,
            next_update_due=next_update_due,
            reminder_at=next_update_due,
            setup_at=setup_by,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise AlreadyStored(f"an incident with declare_key {new.declare_key!r} exists") from exc
        assert row.id is not None
        return incident_from_row(row, {})

    async def by_declare_key(self, declare_key: str) -> Incident | None:
        """The incident a given declaration (command or modal) already created."""
        row = (await self._session.exec(select(IncidentRow).where(IncidentRow.declare_key == declare_key))).first()
        return await self._snapshot(row)

    async def get(self, incident_id: int) -> Incident | None:
        """An incident by its database id."""
        return await self._snapshot(await self._session.get(IncidentRow, incident_id))

    async def fresh(self, incident_id: int) -> Incident | None:
        """An incident as the database holds it now, in this transaction (whatever the session cached)."""
        return await self._snapshot(await self._session.get(IncidentRow, incident_id, populate_existing=True))

    async def by_number(self, team_id: str, number: int) -> Incident | None:
        """An incident by its workspace number (INC-n)."""
        statement = select(IncidentRow).where(IncidentRow.team_id == team_id, IncidentRow.number == number)
        return await self._snapshot((await self._session.exec(statement)).first())

    async def with_number(self, number: int) -> list[Incident]:
        """Incidents numbered `number` in any workspace (the CLI names incidents without a workspace)."""
        return await self._many(select(IncidentRow).where(IncidentRow.number == number))

    async def locked(self, incident_id: int) -> Incident | None:
        """The incident, row-locked until the transaction ends (PostgreSQL; SQLite has one writer anyway)."""
        statement = select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()
        return await self._snapshot((await self._session.exec(statement)).first())

    async def by_channel(self, channel_id: str) -> Incident | None:
        """The incident whose channel this is."""
        statement = select(IncidentRow).where(IncidentRow.channel_id == channel_id)
        return await self._snapshot((await self._session.exec(statement)).first())

    async def open_incidents(
        self,
        team_id: str,
        *,
        severity_order: Sequence[str] = (),
        limit: int | None = None,
        hidden: Collection[int] = (),
    ) -> list[Incident]:
        """Open incidents in a workspace but the `hidden` ones: by `severity_order` (most severe first;
        unknown ones last), then by number; the first `limit` (sorted and cut in SQL)."""
        rank: sa.ColumnElement[Any] = (
            sa.case(
                {name: index for index, name in enumerate(severity_order)},
                value=col(IncidentRow.severity),
                else_=len(severity_order),
            )
            if severity_order
            else sa.literal(0)
        )
        statement = (
            select(IncidentRow)
            .where(IncidentRow.team_id == team_id, col(IncidentRow.status).in_(_OPEN_STATUSES))
            .where(col(IncidentRow.id).not_in(hidden))
            .order_by(rank, col(IncidentRow.number))
            .limit(limit)
        )
        return await self._many(statement)

    async def open_counts(self, team_id: str, *, hidden: Collection[int] = ()) -> dict[str, int]:
        """How many incidents but the `hidden` ones are open in a workspace, per severity."""
        statement = (
            select(col(IncidentRow.severity), sa.func.count())
            .where(IncidentRow.team_id == team_id, col(IncidentRow.status).in_(_OPEN_STATUSES))
            .where(col(IncidentRow.id).not_in(hidden))
            .group_by(col(IncidentRow.severity))
        )
        return {severity: int(n) for severity, n in (await self._session.exec(statement)).all()}

    async def private_ones(self, team_id: str, *, open_only: bool = True) -> list[Incident]:
        """A workspace's private incidents (open ones only, unless asked): few, so read whole."""
        statement = select(IncidentRow).where(IncidentRow.team_id == team_id, col(IncidentRow.private))
        if open_only:
            statement = statement.where(col(IncidentRow.status).in_(_OPEN_STATUSES))
        return await self._many(statement)

    async def set_channel(self, incident_id: int, *, channel_id: str, channel_name: str) -> None:
        """Remember the incident's channel."""
        await self.update(incident_id, channel_id=channel_id, channel_name=channel_name)

    async def set_header(self, incident_id: int, *, header_ts: str) -> None:
        """Remember the header message so it can be kept current."""
        await self.update(incident_id, header_ts=header_ts)

    async def update(self, incident_id: int, **values: object) -> None:
        """Set columns of an incident."""
        await self._session.exec(sa.update(IncidentRow).where(col(IncidentRow.id) == incident_id).values(**values))

    async def set_update_due(self, incident_id: int, due: datetime | None, **values: object) -> None:
        """Set when the next status update is due; the reminder timer restarts from it."""
        await self.update(
            incident_id,
            next_update_due=due,
            reminder_at=due,
            reminders_sent=0,
            reminder_claim=None,
            reminder_claimed_until=None,
            **values,
        )

    async def acknowledge(self, incident_id: int, *, user_id: str, now: datetime) -> bool:
        """Record the first acknowledgement; False when someone acknowledged already (one UPDATE, no race)."""
        result = await self._session.exec(
            sa.update(IncidentRow)
            .where(col(IncidentRow.id) == incident_id, col(IncidentRow.acknowledged_at).is_(None))
            .values(acknowledged_at=now, acknowledged_by=user_id)
        )
        return bool(result.rowcount)

    async def first_delivery(self, event_id: str, *, now: datetime) -> bool:
        """Mark an Events API delivery handled; False if it was already (a Slack retry, or another replica)."""
        statement = (
            dialect_insert(self._session, ProcessedEventRow)
            .values(event_id=event_id, received_at=now)
            .on_conflict_do_nothing(index_elements=[col(ProcessedEventRow.event_id)])
        )
        return bool((await self._session.exec(statement)).rowcount)

    async def capture(self, incident_id: int, entry: TimelineEntry, *, reason: str) -> bool:
        """Put a Slack message on the timeline for `reason` (pin, reaction, shortcut); True if it was new."""
        assert entry.source is not None
        await self._session.exec(
            dialect_insert(self._session, MessageCaptureRow)
            .values(incident_id=incident_id, source=entry.source, reason=reason)
            .on_conflict_do_nothing()
        )
        added = await self._session.exec(
            dialect_insert(self._session, TimelineEventRow)
            .values(**timeline_values(incident_id, entry))
            .on_conflict_do_nothing(index_elements=[col(TimelineEventRow.incident_id), col(TimelineEventRow.source)])
        )
        return bool(added.rowcount)

    async def release(self, incident_id: int, source: str, *, reason: str) -> bool:
        """Drop one reason a message is captured; it leaves the timeline when none remain. True if it left."""
        await self._session.exec(
            sa.delete(MessageCaptureRow).where(
                col(MessageCaptureRow.incident_id) == incident_id,
                col(MessageCaptureRow.source) == source,
                col(MessageCaptureRow.reason) == reason,
            )
        )
        remaining = await self._session.exec(
            select(sa.func.count())
            .select_from(MessageCaptureRow)
            .where(MessageCaptureRow.incident_id == incident_id, MessageCaptureRow.source == source)
        )
        if remaining.one():
            return False
        await self.forget_message(source, incident_id=incident_id)
        return True

    async def edit_message(self, source: str, *, text: str) -> int:
        """Reflect an edit of a captured message; returns how many timeline entries changed."""
        result = await self._session.exec(
            sa.update(TimelineEventRow).where(col(TimelineEventRow.source) == source).values(text=text)
        )
        return int(result.rowcount)

    async def forget_message(self, source: str, *, incident_id: int | None = None) -> int:
        """Take a message off the timeline (deleted, or no longer captured)."""
        entries = sa.delete(TimelineEventRow).where(col(TimelineEventRow.source) == source)
        captures = sa.delete(MessageCaptureRow).where(col(MessageCaptureRow.source) == source)
        if incident_id is not None:
            entries = entries.where(col(TimelineEventRow.incident_id) == incident_id)
            captures = captures.where(col(MessageCaptureRow.incident_id) == incident_id)
        await self._session.exec(captures)
        return int((await self._session.exec(entries)).rowcount)

    async def saw_home(self, team_id: str, user_id: str, *, now: datetime) -> None:
        """Remember that someone opened the App Home, to refresh it for them later."""
        await self._session.exec(
            dialect_insert(self._session, HomeViewerRow)
            .values(team_id=team_id, user_id=user_id, opened_at=now)
            .on_conflict_do_update(
                index_elements=[col(HomeViewerRow.team_id), col(HomeViewerRow.user_id)], set_={"opened_at": now}
            )
        )

    async def home_viewers(self, team_id: str, *, since: datetime) -> list[str]:
        """Who opened the App Home since `since`."""
        statement = select(HomeViewerRow.user_id).where(
            HomeViewerRow.team_id == team_id, col(HomeViewerRow.opened_at) >= since
        )
        return list((await self._session.exec(statement)).all())

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
        self._session.add_all(TimelineEventRow(**timeline_values(incident_id, e)) for e in entries)

    async def timeline(self, incident_id: int, *, offset: int = 0, limit: int | None = None) -> list[TimelineEntry]:
        """An incident's timeline, oldest first (or `limit` entries of it from `offset`)."""
        statement = (
            sa.select(*_ENTRY_COLUMNS)
            .where(col(TimelineEventRow.incident_id) == incident_id)
            .order_by(col(TimelineEventRow.occurred_at), col(TimelineEventRow.id))
            .offset(offset)
            .limit(limit)
        )
        return [TimelineEntry(TimelineKind(kind), *rest) for kind, *rest in (await run(self._session, statement)).all()]

    async def timeline_extent(self, incident_id: int) -> tuple[int, datetime | None, datetime | None]:
        """How many entries an incident's timeline holds, and the first and last entry's times."""
        when = col(TimelineEventRow.occurred_at)
        statement = select(sa.func.count(), sa.func.min(when), sa.func.max(when)).where(
            TimelineEventRow.incident_id == incident_id
        )
        count, first, last = (await self._session.exec(statement)).one()
        return int(count), first, last

    async def role_history(self, incident_id: int) -> list[RoleSpan]:
        """Everyone who held a role in the incident, and when."""
        statement = (
            select(RoleAssignmentRow)
            .where(col(RoleAssignmentRow.incident_id) == incident_id)
            .order_by(col(RoleAssignmentRow.assigned_at), col(RoleAssignmentRow.id))
        )
        return [
            RoleSpan(role=r.role, user_id=r.user_id, start=r.assigned_at, end=r.ended_at)
            for r in (await self._session.exec(statement)).all()
        ]

    async def roles_of(self, incident_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """Who holds each role now, for several incidents."""
        if not incident_ids:
            return {}
        roles: dict[int, dict[str, str]] = {}
        params = {"ids": list(incident_ids)}
        for incident_id, role, user_id in await run(self._session, _CURRENT_ROLES, params):
            roles.setdefault(incident_id, {})[role] = user_id
        return roles

    async def _many(self, statement: SelectOfScalar[IncidentRow]) -> list[Incident]:
        rows = list((await self._session.exec(statement)).all())
        roles = await self.roles_of([r.id for r in rows if r.id is not None])
        return [incident_from_row(row, roles.get(row.id or 0, {})) for row in rows]

    async def _snapshot(self, row: IncidentRow | None) -> Incident | None:
        if row is None or row.id is None:
            return None
        roles = await self.roles_of([row.id])
        return incident_from_row(row, roles.get(row.id, {}))


_OPEN_STATUSES = [s.value for s in Status if s.is_open]
_ENTRY_COLUMNS = (  # TimelineEntry's fields, in its order
    col(TimelineEventRow.kind),
    col(TimelineEventRow.occurred_at),
    col(TimelineEventRow.actor),
    col(TimelineEventRow.text),
    col(TimelineEventRow.source),
    col(TimelineEventRow.permalink),
    col(TimelineEventRow.thread_ts),
)
