"""The event log and its durable subscribers, on SQLite and PostgreSQL: events are appended in the change's
own transaction, each registered subscriber gets the kinds it asked for, in order within each incident, at
least once and (without crashes) exactly once even with two replicas handing them out; a failing
subscriber gets everything once it recovers and never holds another up."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.events import (
    DomainEvent,
    EventKind,
    IncidentNoteAdded,
    IncidentSeverityChanged,
    PageStarted,
    Subject,
    new_event,
)
from bot.entrypoints.event_dispatch import EventDispatch
from bot.runtime.metrics import Metrics
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.conftest import FakeClock, eventually
from tests.storage.test_storage import new_incident

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


Units = Callable[..., UnitOfWork]


@pytest.fixture
async def uow_factory(database_url: str) -> AsyncIterator[Units]:
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    sessions = session_factory(engine)
    yield lambda **kw: UnitOfWork(sessions, **kw)
    await engine.dispose()


@dataclass
class Recorder:
    """A subscriber that keeps what it was handed; it fails while `failing()` says so."""

    name: str
    kinds: Collection[EventKind] | None = None
    failing: Callable[[], bool] | None = None  # says True while it should raise
    handled: list[DomainEvent] = field(default_factory=list)
    tries: int = 0

    async def handle(self, event: DomainEvent) -> None:
        self.tries += 1
        if self.failing is not None and self.failing():
            raise ConnectionError("the receiver is down")
        self.handled.append(event)


def note(incident_id: int, text: str, at: datetime = T0) -> DomainEvent:
    subject = Subject(incident_id=incident_id, reference=f"INC-{incident_id}")
    return new_event(IncidentNoteAdded(text=text), subject=subject, actor="U1", at=at)


def page(page_id: int) -> DomainEvent:
    data = PageStarted(page_id=page_id, title="Disk full", severity="SEV2", source="alert", escalation_policy="ops")
    return new_event(data, subject=Subject(page_id=page_id), actor=None, at=T0)


def dispatch(uow_factory: Units, clock: Callable[[], datetime], *subscribers: Recorder) -> EventDispatch:
    return EventDispatch(uow_factory, list(subscribers), clock, Metrics(), first_retry=timedelta(seconds=1))


async def append(uow_factory: Units, *events: DomainEvent) -> None:
    async with uow_factory() as uow:
        await uow.events.append(*events)
        await uow.commit()


async def test_events_are_read_back_as_appended_and_a_rolled_back_change_leaves_none(uow_factory: Units) -> None:
    severity = new_event(
        IncidentSeverityChanged(previous="SEV3", severity="SEV1"),
        subject=Subject(incident_id=7, reference="INC-7", private=True),
        actor="U0ALICE",
        at=T0,
    )
    await append(uow_factory, note(7, "first"), severity)
    async with uow_factory() as uow:
        await uow.events.append(note(7, "never"))
        # no commit: the change failed, and its event goes with it
    async with uow_factory(read_only=True) as uow:
        stored = await uow.events.of_incident(7)
        public = await uow.events.after(0, limit=10)
    assert [e.data for e in stored] == [IncidentNoteAdded(text="first"), severity.data]
    assert stored[1] == severity
    assert stored[1].as_json()["incident"] == {"id": 7, "reference": "INC-7"}
    assert [e.id for _, e in public] == [stored[0].id]  # the private incident's event is left out


async def test_each_subscriber_gets_only_its_kinds_and_nothing_from_before_it_registered(uow_factory: Units) -> None:
    clock = FakeClock(T0)
    notes = Recorder("notes", kinds={EventKind.INCIDENT_NOTE_ADDED})
    everything = Recorder("everything")
    await append(uow_factory, note(1, "before anyone subscribed"))
    dispatcher = dispatch(uow_factory, clock, notes, everything)
    await dispatcher.register()
    await append(uow_factory, note(1, "a"), page(5), note(2, "b"))
    assert await dispatcher.deliver(notes) == 2
    assert await dispatcher.deliver(everything) == 3
    assert sorted(e.data.text for e in notes.handled) == ["a", "b"]  # type: ignore[attr-defined]
    assert {e.kind for e in everything.handled} == {EventKind.INCIDENT_NOTE_ADDED, EventKind.PAGE_STARTED}
    assert await dispatcher.deliver(everything) == 0  # handled once


async def test_a_subscriber_failing_for_30_s_gets_every_event_in_order_once_it_recovers(uow_factory: Units) -> None:
    clock = FakeClock(T0)
    down_until = T0 + timedelta(seconds=30)
    flaky = Recorder("flaky", failing=lambda: clock() < down_until)
    steady = Recorder("steady")
    dispatcher = dispatch(uow_factory, clock, flaky, steady)
    await dispatcher.register()
    for n in range(5):
        await append(uow_factory, note(1, f"one-{n}", T0), note(2, f"two-{n}", T0))
        await dispatcher.deliver(flaky)
        await dispatcher.deliver(steady)
    assert len(steady.handled) == 10  # never waited for the flaky one
    assert flaky.handled == []
    while clock() < T0 + timedelta(minutes=5) and len(flaky.handled) < 10:
        clock.advance(seconds=1)
        await dispatcher.deliver(flaky)
    assert clock() < T0 + timedelta(seconds=30 + 60), "recovered, it got the backlog within its backoff"
    by_incident: dict[int | None, list[str]] = defaultdict(list)
    for event in flaky.handled:
        by_incident[event.subject.incident_id].append(event.data.text)  # type: ignore[attr-defined]
    assert by_incident == {1: [f"one-{n}" for n in range(5)], 2: [f"two-{n}" for n in range(5)]}
    assert len({e.id for e in flaky.handled}) == 10
    failures = dispatcher.metrics.subscriber_failures.labels("flaky")._value.get()
    assert failures >= 2  # it did fail (each stream's head, at least once)
    assert dispatcher.metrics.subscriber_failures.labels("steady")._value.get() == 0


async def test_a_failing_stream_holds_only_its_own_incident(uow_factory: Units) -> None:
    clock = FakeClock(T0)
    broken = {"yes": True}  # incident 1's events fail until told otherwise; incident 2's go through
    picky = Recorder("picky", failing=lambda: False)

    async def handle(event: DomainEvent) -> None:
        if event.subject.incident_id == 1 and broken["yes"]:
            raise ConnectionError("down for incident 1")
        picky.handled.append(event)

    picky.handle = handle  # type: ignore[method-assign]
    dispatcher = dispatch(uow_factory, clock, picky)
    await dispatcher.register()
    await append(uow_factory, note(1, "1a"), note(2, "2a"), note(1, "1b"), note(2, "2b"))
    for _ in range(3):
        await dispatcher.deliver(picky)
    assert [e.data.text for e in picky.handled] == ["2a", "2b"]  # type: ignore[attr-defined]
    broken["yes"] = False
    clock.advance(minutes=1)
    for _ in range(3):
        await dispatcher.deliver(picky)
    assert [e.data.text for e in picky.handled] == ["2a", "2b", "1a", "1b"]  # type: ignore[attr-defined]


async def test_two_replicas_hand_each_event_to_each_subscriber_once(uow_factory: Units) -> None:
    first_a, first_b = Recorder("audit"), Recorder("webhook:ops")
    second_a, second_b = Recorder("audit"), Recorder("webhook:ops")

    def now() -> datetime:
        return datetime.now(UTC)

    one = dispatch(uow_factory, now, first_a, first_b)
    two = dispatch(uow_factory, now, second_a, second_b)
    await one.register()
    await two.register()
    one.start(every=0.02)
    two.start(every=0.02)
    try:
        for batch in range(10):
            await append(uow_factory, *(note(incident, f"{batch}-{incident}", now()) for incident in range(1, 6)))
            one.wake()
        await eventually(
            lambda: (
                len(first_a.handled) + len(second_a.handled) >= 50
                and len(first_b.handled) + len(second_b.handled) >= 50
            ),
            within=60,
            what="every event handed to both subscribers",
        )
        await asyncio.sleep(0)  # a duplicate would have to be claimed again; none may be
    finally:
        await one.stop()
        await two.stop()
    for pair in ((first_a, second_a), (first_b, second_b)):
        ids = [e.id for recorder in pair for e in recorder.handled]
        assert len(ids) == 50 and len(set(ids)) == 50
        for recorder in pair:  # whichever replica took an incident's events took them in order
            texts: dict[int | None, list[int]] = defaultdict(list)
            for event in recorder.handled:
                texts[event.subject.incident_id].append(int(event.data.text.split("-")[0]))  # type: ignore[attr-defined]
            assert all(batches == sorted(batches) for batches in texts.values())


async def test_a_commit_that_appended_events_wakes_the_subscribers_at_once(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    sessions = session_factory(engine)
    listener = Recorder("listener")
    dispatcher = EventDispatch(lambda **kw: uow(**kw), [listener], lambda: datetime.now(UTC), Metrics())

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions, read_only=read_only, events_committed=dispatcher.wake)

    await dispatcher.register()
    dispatcher.start(every=3600)  # it would look again only in an hour: only the doorbell can wake it
    try:
        await eventually(lambda: "listener" in dispatcher._lag_read, within=30, what="its first look, at nothing")
        await append(uow, note(1, "rang"))
        await eventually(lambda: listener.handled, within=30, what="the subscriber woken by the commit")
    finally:
        await dispatcher.stop()
        await engine.dispose()


async def test_an_event_takes_its_incidents_reference_and_privacy_as_stored(uow_factory: Units) -> None:
    secret = replace(new_incident(1), private=True)
    async with uow_factory() as uow:
        incident = await uow.incidents.add(secret, number=41, now=T0)
        # the caller knows only the id: the log fills in INC-41 and, above all, that it is private
        await uow.events.append(note(incident.id, "quiet"))
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        (stored,) = await uow.events.of_incident(incident.id)
        visible = await uow.events.after(0, limit=10)
    assert stored.subject == Subject(incident.id, "INC-41", private=True)
    assert visible == []
