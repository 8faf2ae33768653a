"""Outgoing webhooks as the event log delivers them: the real dispatch over SQLite, the real HTTP sender,
and a receiver double that verifies every request with the reference Standard Webhooks implementation.

Signed so the reference verifier (and a few lines of plain HMAC) accepts them; a receiver down for a while
gets every event once it recovers, in order per incident, each with the webhook-id of its failed tries;
refusals are not retried; private incidents never leave unless a target asks for them; a slow receiver
holds up nobody else; a receiver that keeps failing is said once in the broadcast channel (however many
replicas see it) and once more when it recovers; an event failing for 24 hours is given up."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.domain.errors import ConfigError
from bot.domain.events import DomainEvent, IncidentNoteAdded, IncidentSeverityChanged, Subject, new_event
from bot.domain.policy import Policy
from bot.entrypoints.event_dispatch import EventDispatch
from bot.runtime.metrics import Metrics
from bot.runtime.webhook_sender import HttpWebhookSender, Unanswered
from bot.slack import messages
from bot.usecases.ports import utc_now
from bot.usecases.webhooks import WebhookDelivery, webhook_subscribers
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.conftest import eventually
from tests.service.fakes import FakeClock, RecordingSlack, sqlite_database
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"tocsin-webhook-test-key-32-bytes").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"some-other-receivers-secret-key!").decode()
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KINDS = ["incident.note_added", "incident.severity_changed"]

Units = Callable[..., UnitOfWork]


@pytest.fixture
async def units(tmp_path: Path) -> AsyncIterator[Units]:
    async with sqlite_database(tmp_path) as uow:
        yield uow


@pytest.fixture
async def both(database_url: str) -> AsyncIterator[Units]:
    """Units of work on each database, migrated as production migrates them (SQLite and PostgreSQL)."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    sessions = session_factory(engine)
    yield lambda **kw: UnitOfWork(sessions, **kw)
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def receivers(clock: FakeClock) -> AsyncIterator[Callable[..., Any]]:
    """Start receiver doubles (checking timestamps on the test's clock unless told otherwise)."""
    started: list[WebhookReceiver] = []

    async def start(secret: str = SECRET, *, on: Callable[[], datetime] | None = clock) -> WebhookReceiver:
        receiver = await WebhookReceiver(secret, clock=on).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def sender() -> AsyncIterator[HttpWebhookSender]:
    sender = HttpWebhookSender(timeout=30.0)
    yield sender
    await sender.close()


@dataclass
class Replica:
    """One Tocsin process's part in this: its webhook subscribers and their dispatch."""

    dispatch: EventDispatch
    hooks: list[WebhookDelivery]
    metrics: Metrics

    async def deliver(self) -> None:
        for hook in self.hooks:
            await self.dispatch.deliver(hook)

    def counted(self, outcome: str) -> float:
        value: float = self.metrics.webhook_deliveries.labels(outcome)._value.get()
        return value


async def replica(
    units: Units,
    clock: Callable[[], datetime],
    sender: HttpWebhookSender,
    *targets: dict[str, Any],
    slack: RecordingSlack | None = None,
) -> Replica:
    """Tocsin's webhook subscribers for `targets` (their secret in $HOOK_SECRET unless named), registered."""
    policy = Policy.model_validate({"webhooks": [{"secret_env": "HOOK_SECRET", **t} for t in targets]})
    metrics = Metrics()
    hooks = webhook_subscribers(
        policy,
        sender=sender,
        slack=slack or RecordingSlack(),
        messages=messages,
        uow=units,
        clock=clock,
        metrics=metrics,
        environ={"HOOK_SECRET": SECRET, "OTHER_SECRET": OTHER_SECRET},
    )
    dispatch = EventDispatch(units, hooks, clock, metrics)
    await dispatch.register()
    return Replica(dispatch, hooks, metrics)


def note(incident: int, text: str, at: datetime = T0, *, private: bool = False) -> DomainEvent:
    subject = Subject(incident_id=incident, reference=f"INC-{incident}", private=private)
    return new_event(IncidentNoteAdded(text=text), subject=subject, actor="U0ALICE", at=at)


async def append(units: Units, *events: DomainEvent) -> None:
    async with units() as uow:
        await uow.events.append(*events)
        await uow.commit()


def texts(receiver: WebhookReceiver, incident: int) -> list[str]:
    return [e["data"]["text"] for e in receiver.delivered if e["incident"]["id"] == incident]


async def test_a_delivery_is_signed_so_the_reference_verifier_and_plain_hmac_accept_it(
    units: Units, clock: FakeClock, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    receiver = await receivers()
    tocsin = await replica(units, clock, sender, {"url": receiver.url, "events": KINDS})
    severity = IncidentSeverityChanged(previous="SEV3", severity="SEV1")
    event = new_event(severity, subject=Subject(7, "INC-7"), actor="U0ALICE", at=T0)
    await append(units, event)
    await tocsin.deliver()

    assert receiver.refused == [] and receiver.delivered == [event.as_json()]  # what the API's /events shows
    (attempt,) = receiver.attempts
    assert attempt.id == event.id and attempt.timestamp == str(int(clock().timestamp()))
    assert attempt.content_type == "application/json" and (attempt.user_agent or "").startswith("Tocsin/")
    # The recipe docs/webhooks.md gives for receivers without a library: HMAC-SHA256 of id.timestamp.body.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{attempt.id}.{attempt.timestamp}.".encode() + attempt.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert attempt.signature == f"v1,{expected}"
    assert tocsin.counted("delivered") == 1
    assert SECRET not in repr(tocsin.hooks[0])  # nor in any log line or error that shows the subscriber


async def test_a_receiver_down_for_a_minute_gets_every_event_in_order_with_the_ids_of_its_failed_tries(
    both: Units, clock: FakeClock, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    units = both
    receiver = await receivers()
    tocsin = await replica(units, clock, sender, {"url": receiver.url, "events": KINDS})
    receiver.answer(500)
    for n in range(3):  # before and during the outage, two incidents
        await append(units, note(1, f"one-{n}", clock()), note(2, f"two-{n}", clock()))
        for _ in range(20):
            clock.advance(seconds=1)
            await tocsin.deliver()
    assert receiver.delivered == [] and {a.status for a in receiver.attempts} == {500}
    failed_ids = {a.id for a in receiver.attempts}
    receiver.recover()
    for _ in range(120):  # the backoff has reached 32 s or so: everything is in within a few minutes
        clock.advance(seconds=5)
        await tocsin.deliver()
        if len(receiver.delivered) == 6:
            break

    assert texts(receiver, 1) == ["one-0", "one-1", "one-2"] and texts(receiver, 2) == ["two-0", "two-1", "two-2"]
    assert receiver.repeats == 0 and receiver.refused == []
    first = [e["id"] for e in receiver.delivered if e["data"]["text"].endswith("-0")]
    assert set(first) <= failed_ids  # the heads failed, and came again under the same webhook-id
    for event_id in first:
        assert len({a.timestamp for a in receiver.attempts if a.id == event_id}) > 1  # each try signed anew
    assert tocsin.counted("delivered") == 6 and tocsin.counted("failed") >= 2
    assert tocsin.counted("rejected") == tocsin.counted("expired") == 0


@pytest.mark.parametrize("status", [400, 404, 302])
async def test_a_refusal_is_not_retried_and_is_logged_once(
    units: Units,
    clock: FakeClock,
    sender: HttpWebhookSender,
    receivers: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    receiver = await receivers()
    tocsin = await replica(units, clock, sender, {"url": receiver.url, "events": KINDS})
    receiver.answer(status)
    await append(units, note(1, "a"), note(1, "b"), note(2, "c"))
    with caplog.at_level(logging.WARNING, logger="bot.usecases.webhooks"):
        for _ in range(5):
            await tocsin.deliver()
            clock.advance(minutes=10)
    assert len(receiver.attempts) == 3  # each once: not retried, and a redirect not followed
    assert tocsin.counted("rejected") == 3 and tocsin.counted("failed") == 0
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and receiver.url not in refusals[0].getMessage()


async def test_a_receiver_with_another_secret_refuses_the_signature_and_that_is_not_retried(
    units: Units, clock: FakeClock, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    receiver = await receivers(OTHER_SECRET)
    tocsin = await replica(units, clock, sender, {"url": receiver.url, "events": KINDS})
    await append(units, note(1, "a"))
    await tocsin.deliver()
    clock.advance(minutes=10)
    await tocsin.deliver()
    assert receiver.refused == ["No matching signature found"] and receiver.delivered == []
    assert tocsin.counted("rejected") == 1


async def test_private_incidents_are_sent_only_to_a_target_that_includes_them(
    units: Units, clock: FakeClock, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    public_only, everything = await receivers(), await receivers()
    targets = [
        {"url": public_only.url, "events": KINDS},
        {"url": everything.url, "events": KINDS, "include_private": True},
    ]
    tocsin = await replica(units, clock, sender, *targets)
    await append(units, note(1, "secret", private=True), note(2, "open"), note(1, "secret again", private=True))
    for _ in range(3):  # an incident's second event is handed over once its first is done
        await tocsin.deliver()
    assert [e["data"]["text"] for e in public_only.delivered] == ["open"]
    assert len(public_only.attempts) == 1  # not a request, not a header, nothing about the private incident
    assert sorted(e["data"]["text"] for e in everything.delivered) == ["open", "secret", "secret again"]
    assert all(e["private"] for e in everything.delivered if e["incident"]["id"] == 1)
    assert tocsin.counted("delivered") == 4  # the skipped ones are counted nowhere


async def test_a_slow_receiver_does_not_delay_another(
    units: Units, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    slow, fast = await receivers(on=None), await receivers(on=None)
    tocsin = await replica(
        units, utc_now, sender, {"url": slow.url, "events": KINDS}, {"url": fast.url, "events": KINDS}
    )
    slow.stall()
    tocsin.dispatch.start(every=0.05)
    try:
        await append(units, *(note(n % 4 + 1, f"{n}", utc_now()) for n in range(12)))
        tocsin.dispatch.wake()
        await eventually(lambda: len(fast.delivered) == 12, within=60, what="the fast receiver getting every event")
        assert slow.delivered == [] and slow.held > 0  # still waiting on the slow one's answers
        slow.recover()
        await eventually(lambda: len(slow.delivered) == 12, within=60, what="the slow receiver catching up")
    finally:
        await tocsin.dispatch.stop()
    assert fast.repeats == 0


async def test_no_answer_is_retried_a_timeout_and_a_refused_connection_alike(
    units: Units, clock: FakeClock, receivers: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    receiver = await receivers()
    closed = await receivers()
    await closed.stop()  # nothing listens there any more
    quick = HttpWebhookSender(timeout=0.5)
    try:
        targets = [{"url": receiver.url, "events": KINDS}, {"url": closed.url, "events": KINDS}]
        tocsin = await replica(units, clock, quick, *targets)
        receiver.stall()
        await append(units, note(1, "a"))
        with caplog.at_level(logging.WARNING):
            await tocsin.deliver()
        assert tocsin.counted("failed") == 2 and receiver.delivered == []
        said = [r.getMessage() for r in caplog.records]
        assert any("no answer within 0.5 s" in line for line in said), said
        assert any("could not connect to 127.0.0.1:" in line for line in said), said
        assert not any("/hooks/tocsin" in line for line in said)  # a URL's path may hold a token: never logged
        receiver.recover()
        await eventually(lambda: receiver.held == 0, within=30, what="the held request answered")
        clock.advance(seconds=2)
        await tocsin.deliver()
        assert [e["data"]["text"] for e in receiver.delivered] == ["a"]
        assert tocsin.counted("failed") == 3  # the closed port failed again; it is still waiting
        async with units(read_only=True) as uow:
            assert (await uow.events.backlog(tocsin.hooks[1].name)).waiting == 1
    finally:
        await quick.close()


async def test_a_receiver_failing_for_5_minutes_is_said_once_by_two_replicas_and_once_more_when_it_recovers(
    both: Units, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    units = both
    clock = FakeClock(datetime(2026, 11, 23, 10, 59, 45, tzinfo=UTC))  # the replicas' stretches straddle 11:00
    receiver = await receivers(on=clock)
    slack = RecordingSlack()
    target = {"url": receiver.url, "events": KINDS}
    one = await replica(units, clock, sender, target, slack=slack)
    two = await replica(units, clock, sender, target, slack=slack)
    receiver.answer(503)
    began = clock()

    def posts() -> list[str]:
        return [c.text for c in slack.made("post") if c.where == "#incidents"]

    for step in range(60):  # ten minutes, a new incident's event every 30 s; the replicas take turns
        if step % 3 == 0:
            await append(units, note(step + 1, f"n{step}", clock()))
        clock.advance(seconds=10)
        await (one if step % 2 == 0 else two).deliver()
        if clock() - began < timedelta(minutes=5):
            assert posts() == [], "said before it had failed for 5 minutes"
    failing = posts()
    # Each replica saw the stretch begin on its own side of 11:00, and held back all the same.
    assert one.hooks[0].watch.reported_since == datetime(2026, 11, 23, 10, 59, 55, tzinfo=UTC)
    assert two.hooks[0].watch.reported_since == datetime(2026, 11, 23, 11, 0, 5, tzinfo=UTC)
    assert len(failing) == 1 and "failing" in failing[0] and "127.0.0.1" in failing[0]
    assert "hooks/tocsin" not in failing[0]  # the host only: a URL's path may carry a token

    receiver.recover()
    for step in range(80):
        clock.advance(seconds=30)
        await (one if step % 2 == 0 else two).deliver()
    assert len(receiver.delivered) == 20
    after = posts()
    assert len(after) == 2 and "answers again" in after[1]

    clock.advance(hours=3)  # a short failure later: not said
    receiver.answer(500)
    await append(units, note(99, "brief", clock()))
    for step in range(12):
        clock.advance(seconds=10)
        await (one if step % 2 == 0 else two).deliver()
    receiver.recover()
    clock.advance(minutes=1)
    await one.deliver()
    await two.deliver()
    assert len(posts()) == 2 and len(receiver.delivered) == 21


async def test_an_event_still_failing_a_day_after_it_happened_is_given_up_and_the_next_goes_on(
    units: Units, clock: FakeClock, sender: HttpWebhookSender, receivers: Callable[..., Any]
) -> None:
    receiver = await receivers()
    tocsin = await replica(units, clock, sender, {"url": receiver.url, "events": KINDS})
    receiver.answer(502)
    await append(units, note(1, "old", T0))
    await tocsin.deliver()
    await append(units, note(1, "later", T0 + timedelta(hours=20)))
    while tocsin.counted("expired") == 0:
        clock.advance(minutes=10)
        await tocsin.deliver()
        assert clock() < T0 + timedelta(hours=25)
    tries = [int(a.timestamp or 0) for a in receiver.attempts]
    assert max(tries) - min(tries) >= timedelta(hours=24).total_seconds()  # tried for a whole day
    receiver.recover()
    clock.advance(minutes=10)
    await tocsin.deliver()
    assert texts(receiver, 1) == ["later"]
    assert tocsin.counted("expired") == 1


async def test_a_missing_or_malformed_secret_stops_start_up_naming_the_variable(units: Units) -> None:
    policy = Policy.model_validate(
        {
            "webhooks": [
                {"url": "https://a.example/hook", "events": KINDS, "secret_env": "A_SECRET"},
                {"url": "https://b.example/hook?token=xyz", "events": KINDS, "secret_env": "B_SECRET"},
            ]
        }
    )
    with pytest.raises(ConfigError) as raised:
        webhook_subscribers(
            policy,
            sender=HttpWebhookSender(),
            slack=RecordingSlack(),
            messages=messages,
            uow=units,
            clock=utc_now,
            metrics=Metrics(),
            environ={"B_SECRET": "not-a-secret"},
        )
    said = str(raised.value)
    assert "A_SECRET is not set" in said and "B_SECRET is not a Standard Webhooks secret" in said
    assert "not-a-secret" not in said and "xyz" not in said


async def test_the_sender_never_connects_to_a_name_that_resolves_to_a_metadata_address() -> None:
    class Pointing(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[ResolveResult]:
            address = "169.254.169.254" if host == "innocent.example" else "127.0.0.1"
            return [ResolveResult(hostname=host, host=address, port=port, family=2, proto=0, flags=0)]

        async def close(self) -> None:
            pass

    sender = HttpWebhookSender(resolver=Pointing(), timeout=5)
    try:
        with pytest.raises(Unanswered) as raised:
            await sender.send("http://innocent.example/hook?token=xyz", b"{}", {})
    finally:
        await sender.close()
    assert str(raised.value) == (
        "could not connect to innocent.example:80: "
        "innocent.example resolves only to link-local or cloud metadata addresses"
    )
