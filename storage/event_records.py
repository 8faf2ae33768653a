"""The event log within one unit of work: appending events (and a delivery for every registered subscriber
that wants them, in the same transaction), reading the log, and claiming deliveries. Never commits.

A subscriber's deliveries are claimed only at the head of their stream (no older delivery of the same
incident, page or alert group is still waiting), so each stream reaches a subscriber in order, while
another stream, or another subscriber, never waits for it. Claims are leased like the timers' (`FOR
UPDATE SKIP LOCKED` on PostgreSQL), so replicas never take the same delivery, and a delivery whose
claimer died is taken again once its lease runs out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.events import DomainEvent, Subject, body_of
from bot.domain.incidents import reference
from storage.core_sql import run, table_of
from storage.event_models import EventDeliveryRow, EventRow, EventSubscriberRow
from storage.models import IncidentRow, UTCDateTime

_events = table_of(EventRow)
_subscribers = table_of(EventSubscriberRow)
_deliveries = table_of(EventDeliveryRow)
_incidents = table_of(IncidentRow)

_FAN_OUT = _deliveries.insert().from_select(
    ["subscriber", "event_seq", "stream", "due_at", "attempts"],
    sa.select(
        _subscribers.c.name,
        sa.bindparam("seq", type_=sa.Integer()),
        sa.bindparam("event_stream", type_=sa.String()),
        sa.bindparam("due", type_=UTCDateTime()),
        sa.literal(0),
    ).where(sa.or_(_subscribers.c.kinds.is_(None), _subscribers.c.kinds.like(sa.bindparam("pattern")))),
)


def _claim_statement() -> sa.Update:
    d = _deliveries.c
    earlier = _deliveries.alias("earlier")
    now = sa.bindparam("now", type_=UTCDateTime())
    heads = (
        sa.select(d.id)
        .where(
            d.subscriber == sa.bindparam("who"),
            d.due_at <= now,
            sa.or_(d.claimed_until.is_(None), d.claimed_until < now),
            ~sa.exists().where(
                earlier.c.subscriber == d.subscriber, earlier.c.stream == d.stream, earlier.c.event_seq < d.event_seq
            ),
        )
        .order_by(d.event_seq)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .with_for_update(skip_locked=True)
        .correlate(None)
    )
    return (
        sa.update(_deliveries)
        .where(d.id.in_(heads))
        .values(claim=sa.bindparam("token"), claimed_until=sa.bindparam("lease_end", type_=UTCDateTime()))
        .returning(d.id, d.event_seq, d.attempts)
    )


_CLAIM = _claim_statement()
_MINE = (_deliveries.c.id == sa.bindparam("delivery"), _deliveries.c.claim == sa.bindparam("token"))
_DELIVERED = sa.delete(_deliveries).where(*_MINE)
_AGAIN_LATER = (
    sa.update(_deliveries)
    .where(*_MINE)
    .values(
        due_at=sa.bindparam("due", type_=UTCDateTime()),
        attempts=_deliveries.c.attempts + 1,
        last_error=sa.bindparam("error"),
        claim=None,
        claimed_until=None,
    )
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event claimed for one subscriber, and how many times handling it failed before."""

    id: int
    attempts: int
    event: DomainEvent


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a subscriber has still to handle: how many deliveries, and when the oldest event happened."""

    waiting: int
    oldest: datetime | None


class EventRecords:
    """The event log, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
        self.appended = 0  # events appended since the last commit

    # ----- writing -------------------------------------------------------------------------------
    async def append(self, *events: DomainEvent) -> None:
        """Append events, with a delivery for every registered subscriber that wants their kind."""
        self.appended += len(events)
        known = await self._incidents({e.subject.incident_id for e in events if e.subject.incident_id is not None})
        for event in events:
            subject = event.subject
            if subject.incident_id in known:  # its reference and privacy as stored, whatever the caller knew
                number, private = known[subject.incident_id]
                subject = replace(subject, reference=reference(number), private=private)
            seq = (
                await self._session.exec(
                    sa.insert(_events)
                    .values(
                        id=event.id,
                        kind=event.kind.value,
                        version=event.version,
                        stream=subject.stream,
                        incident_id=subject.incident_id,
                        reference=subject.reference,
                        private=subject.private,
                        page_id=subject.page_id,
                        alert_group_id=subject.alert_group_id,
                        actor=event.actor,
                        occurred_at=event.occurred_at,
                        data=event.data.model_dump(mode="json"),
                    )
                    .returning(_events.c.seq)
                )
            ).scalar_one()
            params = {
                "seq": seq,
                "event_stream": subject.stream,
                "due": event.occurred_at,
                "pattern": f"%,{event.kind},%",
            }
            await self._session.exec(_FAN_OUT, params=params)

    async def _incidents(self, ids: set[int]) -> dict[int, tuple[int, bool]]:
        if not ids:
            return {}
        statement = sa.select(_incidents.c.id, _incidents.c.number, _incidents.c.private).where(
            _incidents.c.id.in_(sorted(ids))
        )
        rows = (await run(self._session, statement)).all()
        return {row.id: (row.number, bool(row.private)) for row in rows}

    # ----- reading -------------------------------------------------------------------------------
    async def after(
        self,
        seq: int,
        *,
        limit: int,
        include_private: bool = False,
        kinds: Collection[str] = (),
        incident_id: int | None = None,
    ) -> list[tuple[int, DomainEvent]]:
        """Events after position `seq`, oldest first, with their positions (the API's cursor)."""
        statement = sa.select(_events).where(_events.c.seq > seq).order_by(_events.c.seq).limit(limit)
        if not include_private:
            statement = statement.where(_events.c.private.is_(False))
        if kinds:
            statement = statement.where(_events.c.kind.in_(list(kinds)))
        if incident_id is not None:
            statement = statement.where(_events.c.incident_id == incident_id)
        rows = (await self._session.exec(statement)).all()  # type: ignore[call-overload]
        return [(row.seq, _event(row)) for row in rows]

    async def of_incident(self, incident_id: int) -> list[DomainEvent]:
        """Every event of one incident, oldest first."""
        return [
            event for _, event in await self.after(0, limit=1_000_000, include_private=True, incident_id=incident_id)
        ]

    # ----- subscribers ---------------------------------------------------------------------------
    async def register(self, subscribers: Mapping[str, Collection[str] | None], *, now: datetime) -> None:
        """Register subscribers (each with the kinds it wants, None for every kind): events appended
        from now on get a delivery for each. Registering again updates the kinds and keeps the backlog."""
        for name, kinds in subscribers.items():
            wanted = f",{','.join(sorted(kinds))}," if kinds is not None else None
            row = await self._session.get(EventSubscriberRow, name)
            if row is None:
                self._session.add(EventSubscriberRow(name=name, kinds=wanted, registered_at=now))
            elif row.kinds != wanted:
                row.kinds = wanted
                self._session.add(row)

    async def registered(self) -> list[str]:
        """The names of every registered subscriber."""
        return list((await self._session.exec(sa.select(_subscribers.c.name))).scalars())  # type: ignore[call-overload]

    async def retire(self, name: str) -> int:
        """Stop a subscriber: it gets no more deliveries and its backlog is dropped; how many were dropped."""
        dropped = await self._session.exec(sa.delete(_deliveries).where(_deliveries.c.subscriber == name))
        await self._session.exec(sa.delete(_subscribers).where(_subscribers.c.name == name))
        return int(dropped.rowcount or 0)

    async def has_due(self, subscriber: str, *, now: datetime) -> bool:
        """Whether any delivery of the subscriber is due and unclaimed (a cheap read before a claim)."""
        d = _deliveries.c
        statement = (
            sa.select(d.id)
            .where(
                d.subscriber == subscriber, d.due_at <= now, sa.or_(d.claimed_until.is_(None), d.claimed_until < now)
            )
            .limit(1)
        )
        return (await self._session.exec(statement)).first() is not None  # type: ignore[call-overload]

    async def claim(
        self, subscriber: str, *, now: datetime, lease: timedelta, token: str, limit: int
    ) -> list[Delivery]:
        """Take up to `limit` due deliveries, each the oldest still waiting in its stream, oldest first."""
        params = {"who": subscriber, "now": now, "limit": limit, "token": token, "lease_end": now + lease}
        claimed: Sequence[Any] = (await self._session.exec(_CLAIM, params=params)).all()
        if not claimed:
            return []
        seqs = {row.event_seq: row for row in claimed}
        rows = (await self._session.exec(sa.select(_events).where(_events.c.seq.in_(list(seqs))))).all()  # type: ignore[call-overload]
        events = {row.seq: _event(row) for row in rows}
        return [Delivery(seqs[seq].id, seqs[seq].attempts, events[seq]) for seq in sorted(seqs)]

    async def delivered(self, delivery_id: int, *, token: str) -> None:
        """A claimed delivery was handled: it is done."""
        await self._session.exec(_DELIVERED, params={"delivery": delivery_id, "token": token})

    async def again_later(self, delivery_id: int, *, token: str, due: datetime, error: str) -> None:
        """Handling a claimed delivery failed: try again at `due` (the rest of its stream waits for it)."""
        params = {"delivery": delivery_id, "token": token, "due": due, "error": error[:200]}
        await self._session.exec(_AGAIN_LATER, params=params)

    async def backlog(self, subscriber: str) -> Backlog:
        """How far behind a subscriber is."""
        statement = (
            sa.select(sa.func.count(), sa.func.min(_events.c.occurred_at, type_=UTCDateTime()))
            .select_from(_deliveries.join(_events, _events.c.seq == _deliveries.c.event_seq))
            .where(_deliveries.c.subscriber == subscriber)
        )
        waiting, oldest = (await self._session.exec(statement)).one()  # type: ignore[call-overload]
        return Backlog(int(waiting), oldest)


def _event(row: Any) -> DomainEvent:
    kept_apart = row.incident_id is None and row.page_id is None and row.alert_group_id is None
    topic = row.stream if kept_apart else None  # e.g. schedule:<name>
    subject = Subject(row.incident_id, row.reference, bool(row.private), row.page_id, row.alert_group_id, topic)
    return DomainEvent(row.id, row.occurred_at, row.actor, subject, body_of(row.kind, row.data), row.version)
