"""The event log as the real app writes it: an incident changed by every surface (commands, a button, an
alert webhook, the timer) leaves exactly the expected events, each committed with its change; a change
whose event cannot be written is not made at all; and the app's own subscribers act on the log."""

from __future__ import annotations

import pytest

from bot.app import Tocsin
from bot.domain.events import DomainEvent, EventKind
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.event_records import EventRecords
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY, declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident
from tests.e2e.test_alerts import TOKEN, post
from tests.e2e.test_timers import dm_channel, pages_to, tick
from tests.slack_double import SlackDouble

K = EventKind


async def events_of(tocsin: Tocsin, incident_id: int) -> list[DomainEvent]:
    async with UnitOfWork(session_factory(tocsin.engine), read_only=True) as uow:
        return await uow.events.of_incident(incident_id)


async def every_event(tocsin: Tocsin) -> list[DomainEvent]:
    async with UnitOfWork(session_factory(tocsin.engine), read_only=True) as uow:
        return [event for _, event in await uow.events.after(0, limit=1000, include_private=True)]


async def run(double: SlackDouble, tocsin: Tocsin, user: str, channel: str, text: str) -> None:
    await double.slash_command(user, channel, text)
    await settle(tocsin)


async def test_every_change_by_every_surface_is_in_the_event_log(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(database_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    channel = (await declare(double, tocsin, "declare sev2 Checkout is failing")).id
    incident = await stored_incident(tocsin, 1)
    for text in (
        "sev 1 spreading to EU",
        "status identified",
        "update Rolling back the deploy",
        "note Dashboards show the error rate falling",
        "ic @dave",
        "followup Add a canary for checkout @bob",
    ):
        await run(double, tocsin, "U0ALICE", channel, text)
    bob_dm = dm_channel(double, "U0BOB")
    await double.click("U0BOB", bob_dm.id, pages_to(double, "U0BOB")[0]["ts"], "page_acknowledge")
    await settle(tocsin)
    await run(double, tocsin, "U0DAVE", channel, "resolve Rolled back the deploy")
    await run(double, tocsin, "U0DAVE", channel, "reopen Errors are back")

    events = await events_of(tocsin, incident.id)
    assert [e.kind for e in events] == [
        K.INCIDENT_DECLARED,
        K.INCIDENT_ROLE_ASSIGNED,
        K.PAGE_STARTED,
        K.INCIDENT_SEVERITY_CHANGED,
        K.INCIDENT_STATUS_CHANGED,
        K.INCIDENT_UPDATED,
        K.INCIDENT_NOTE_ADDED,
        K.INCIDENT_ROLE_ASSIGNED,
        K.FOLLOW_UP_CREATED,
        K.PAGE_ACKNOWLEDGED,
        K.INCIDENT_STATUS_CHANGED,
        K.INCIDENT_RESOLVED,
        K.POSTMORTEM_PUBLISHED,
        K.INCIDENT_STATUS_CHANGED,
        K.INCIDENT_REOPENED,
    ]
    body = [e.as_json() for e in events]
    assert body[0]["data"] == {
        "title": "Checkout is failing",
        "severity": "SEV2",
        "status": "investigating",
        "service": "checkout",
        "detected_via": None,
        "description": "",
    }
    assert body[0]["incident"] == {"id": incident.id, "reference": "INC-1"} and body[0]["actor"] == "U0ALICE"
    assert body[3]["data"] == {"previous": "SEV2", "severity": "SEV1"}
    assert body[4]["data"] == {"previous": "investigating", "status": "identified"}
    assert body[7]["data"] == {"role": "incident_commander", "user": "U0DAVE", "previous": "U0ALICE"}
    assert body[9]["actor"] == "U0BOB" and body[9]["data"]["page_id"] == body[2]["data"]["page_id"]
    assert body[11]["actor"] == "U0DAVE" and body[11]["data"] == {"summary": "Rolled back the deploy"}
    assert len({e.id for e in events}) == len(events)  # each its own stable id
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    # The app's own subscriber acted on the log: the new commander got the catch-up summary by DM.
    assert any("INC-1" in m.get("text", "") for m in double.dm_messages("U0DAVE"))


async def test_alerts_and_the_timer_record_their_events_too(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    routes = {"routes": [{"match": {"team": "payments"}, "service": "checkout"}]}  # pages, never declares
    policy = Policy.model_validate({**PAGING_POLICY, "alerts": routes})
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=policy, alerts_token=TOKEN)

    async def deliver(status: str) -> None:
        alert = {"status": status, "labels": {"alertname": "CheckoutDown", "team": "payments"}}
        body = {"version": "4", "groupKey": "g1", "status": status, "alerts": [alert]}
        answer, _ = await post(tocsin, "alertmanager", body)
        assert answer == 200
        await settle(tocsin)

    await deliver("firing")
    for _ in range(6):  # nobody answers: every tier, every round, until the page gives up
        clock.advance(minutes=30)
        await tick(tocsin)
    await deliver("resolved")
    kinds = [e.kind for e in await every_event(tocsin)]
    assert sorted(kinds[:2]) == sorted([K.PAGE_STARTED, K.ALERT_FIRING])  # one transaction, one webhook
    assert kinds.count(K.PAGE_EXHAUSTED) == 1, kinds
    assert kinds[-1] == K.ALERT_RESOLVED


async def test_a_change_whose_event_cannot_be_written_is_not_made(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tocsin = await start_tocsin(database_url)
    channel = (await declare(double, tocsin, "declare sev2 Checkout is failing")).id
    incident = await stored_incident(tocsin, 1)
    before = await events_of(tocsin, incident.id)
    append = EventRecords.append

    async def broken(self: EventRecords, *events: DomainEvent) -> None:
        await append(self, *events)  # written, then the transaction fails before it commits
        raise RuntimeError("the event log refused it")

    monkeypatch.setattr(EventRecords, "append", broken)
    await run(double, tocsin, "U0ALICE", channel, "sev 1 spreading")
    monkeypatch.setattr(EventRecords, "append", append)
    assert (await stored_incident(tocsin, 1)).severity == "SEV2"  # the change went with its event
    assert await events_of(tocsin, incident.id) == before
    await run(double, tocsin, "U0ALICE", channel, "sev 1 spreading")
    assert (await stored_incident(tocsin, 1)).severity == "SEV1"
    assert [e.kind for e in await events_of(tocsin, incident.id)][-1] == K.INCIDENT_SEVERITY_CHANGED
