"""Declaring, and the set-up that follows it (setup.py, setup_announce.py, setup_run.py): a declaration
stored once however often it is delivered, refused to whoever the policy does not allow, then set up in
Slack step by step (channel, header, pin, topic, announcements, the declarer told); a step Slack refuses
is reported, retried by the sweep when it may work later, and a set-up resumed after a crash finds what
it did before rather than doing it twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.errors import SlackRefused, UserError
from bot.domain.incidents import Incident, NewIncident, TimelineEntry, TimelineKind
from bot.domain.policy import EscalationPolicy, EscalationTier, Permissions, Policy, Service
from bot.domain.privacy import PrivateIncidents
from bot.domain.slack_values import CreatedChannel, ReplyTarget
from bot.domain.source_message import SourceMessage
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.declare import DeclareOutcome, IncidentService
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.paging import Pager
from bot.usecases.runbooks import RunbookService
from bot.usecases.setup import IncidentSetup
from bot.usecases.setup_run import FIRST_RETRY
from bot.usecases.visibility import Visibility
from storage.uow import UnitOfWork
from tests.service.fakes import (
    FakeClock,
    ScriptedSlack,
    event_kinds,
    runbook_library,
    sqlite_database,
    timeline_texts,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ALICE = ReplyTarget("U0ALICE", "C0OPS")
CHANNEL = "C0INC1CHECKO"  # what the recording Slack calls #inc-1-checkout-errors


def asked(**changes: Any) -> NewIncident:
    """Alice's declaration of a SEV2 about checkout errors (one request: one declare key)."""
    values: dict[str, Any] = {
        "team_id": "T1", "title": "Checkout errors", "severity": "SEV2", "declared_by": "U0ALICE", "declare_key": "k1",
    }  # fmt: skip
    return NewIncident(**(values | changes))


class Declaring:
    """The declare use case with its whole set-up, over an in-memory database and a scripted Slack."""

    def __init__(self, storage: Callable[..., UnitOfWork], folder: Path, policy: Policy) -> None:
        self.storage, self.slack, self.clock = storage, ScriptedSlack(), FakeClock(NOW)
        uow, slack, clock, shown = storage, self.slack, self.clock, messages
        self.pager = Pager(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, metrics=Metrics())
        self.visibility = Visibility(slack)
        setup = IncidentSetup(
            uow=uow, slack=slack, messages=shown, policy=policy, clock=clock,
            header=HeaderKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, min_interval=0),
            home=HomeKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock,
                            visibility=self.visibility),
            pager=self.pager,
            runbooks=RunbookService(uow=uow, slack=slack, messages=shown, library=runbook_library(folder, policy),
                                    clock=clock),
        )  # fmt: skip
        self.service = IncidentService(
            uow=uow, slack=slack, messages=shown, policy=policy, metrics=Metrics(), setup=setup, clock=clock,
            visibility=self.visibility,
        )  # fmt: skip

    async def declare(self, new: NewIncident | None = None, **how: Any) -> DeclareOutcome:
        return await self.service.declare(new or asked(), reply_to=how.pop("reply_to", ALICE), **how)

    async def stored(self, incident_id: int) -> Incident:
        async with self.storage() as uow:
            found = await uow.incidents.get(incident_id)
        assert found is not None
        return found

    async def timeline(self, incident: Incident) -> list[TimelineEntry]:
        async with self.storage() as uow:
            return await uow.incidents.timeline(incident.id)

    async def unfinished(self, *, at: datetime) -> list[Incident]:
        """The set-ups the sweep would take over at `at`."""
        async with self.storage() as uow:
            claimed = await uow.setups.claim(now=at, lease=timedelta(minutes=1), token="sweep", limit=10)
            await uow.commit()
        return claimed


Make = Callable[..., Awaitable[Declaring]]  # a world, under the default policy or the one given


@pytest.fixture
async def declaring(tmp_path: Path) -> AsyncIterator[Make]:
    async with sqlite_database(tmp_path) as storage:

        async def make(policy: Policy | None = None) -> Declaring:
            return Declaring(storage, tmp_path, policy or Policy())

        yield make


async def test_a_declaration_is_stored_and_set_up_in_slack(declaring: Make) -> None:
    world = await declaring()
    outcome = await world.declare()
    incident = outcome.incident
    assert outcome.created and outcome.problems == [] and incident.commander == "U0ALICE"
    (created,) = world.slack.made("create_channel")
    assert created.where == "inc-1-checkout-errors" and not created.extra["private"]
    stored = await world.stored(incident.id)
    assert stored.channel_id == CHANNEL and stored.header_ts is not None and stored.channel_topic
    (invite,) = world.slack.made("invite")
    assert invite.where == CHANNEL and invite.extra["users"] == ["U0ALICE"]
    assert [c.extra["ts"] for c in world.slack.made("pin")] == [stored.header_ts]
    posted = {c.where for c in world.slack.made("post")}
    assert posted == {CHANNEL, "#incidents"}  # the header, and the announcement
    (told,) = world.slack.made("reply")
    assert told.where == "U0ALICE" and "You're the Incident Commander" in told.text
    kinds = {e.kind for e in await world.timeline(incident)}
    done = {TimelineKind.CHANNEL_CREATED, TimelineKind.HEADER_POSTED, TimelineKind.ANNOUNCED}
    assert {TimelineKind.DECLARED, *done} <= kinds and TimelineKind.SETUP_PROBLEM not in kinds
    assert await event_kinds(world.storage, incident.id) == ["incident.declared", "incident.role_assigned"]
    assert await world.unfinished(at=NOW + timedelta(hours=1)) == []  # every step done: the timer stopped


async def test_the_same_request_twice_is_one_incident_and_the_second_is_told_so(declaring: Make) -> None:
    world = await declaring()
    first = await world.declare()
    again = await world.declare()
    assert not again.created and again.incident.id == first.incident.id
    assert len(world.slack.made("create_channel")) == 1
    assert "was already declared from this request" in world.slack.made("reply")[-1].text
    assert await event_kinds(world.storage, first.incident.id) == ["incident.declared", "incident.role_assigned"]


async def test_someone_the_policy_does_not_allow_declares_nothing(declaring: Make) -> None:
    world = await declaring(Policy(permissions=Permissions(declare=["admins"])))
    with pytest.raises(UserError):
        await world.declare()
    async with world.storage() as uow:
        assert await uow.incidents.by_declare_key("k1") is None
    assert world.slack.calls == []


async def test_a_private_incident_keeps_its_title_to_its_channel(declaring: Make) -> None:
    policy = Policy(private_incidents=PrivateIncidents(notice="A private incident was declared; ask #security."))
    world = await declaring(policy)
    outcome = await world.declare(asked(private=True, title="Leaked keys"))
    (created,) = world.slack.made("create_channel")
    assert created.where == "inc-1-private" and created.extra["private"]
    (notice,) = [c for c in world.slack.made("post") if c.where == "#incidents"]
    assert "ask #security" in notice.text and "Leaked keys" not in notice.text
    channel = (await world.stored(outcome.incident.id)).channel_id
    assert channel is not None
    world.slack.members[channel] = {"U0ALICE"}
    assert [i.title for i in (await world.service.open_incidents("T1", viewer="U0ALICE"))[0]] == ["Leaked keys"]
    assert (await world.service.open_incidents("T1", viewer="U0EVE"))[0] == []


async def test_a_channel_slack_will_not_create_is_reported_and_not_retried(declaring: Make) -> None:
    world = await declaring()
    world.slack.refuse("create_channel", SlackRefused("missing_scope"))
    outcome = await world.declare()
    assert [str(p) for p in outcome.problems] == ["channel: missing_scope"]
    (told,) = world.slack.made("reply")
    assert "refused to create its channel (missing_scope)" in told.text
    problems = await timeline_texts(world.storage, outcome.incident.id, TimelineKind.SETUP_PROBLEM)
    assert problems == ["channel: missing_scope"]
    assert await world.unfinished(at=NOW + timedelta(days=1)) == []  # trying again would not help


async def test_a_channel_slack_refuses_for_now_is_made_by_the_sweep(declaring: Make) -> None:
    world = await declaring()
    world.slack.refuse("create_channel", SlackRefused("ratelimited", retryable=True))
    outcome = await world.declare()
    assert "Tocsin keeps trying" in world.slack.made("reply")[0].text
    assert await world.unfinished(at=NOW + FIRST_RETRY - timedelta(seconds=1)) == []
    world.slack.allow("create_channel")
    world.clock.advance(seconds=FIRST_RETRY.total_seconds())
    (resumed,) = await world.unfinished(at=world.clock())
    await world.service.finish_setup(resumed, token="sweep")
    stored = await world.stored(outcome.incident.id)
    assert stored.channel_id == CHANNEL and stored.header_ts is not None
    assert [c.where for c in world.slack.made("post") if c.where == "#incidents"] == ["#incidents"]
    assert await world.unfinished(at=NOW + timedelta(days=1)) == []


async def test_an_announcement_refused_is_a_problem_the_declarer_hears_of(declaring: Make) -> None:
    world = await declaring()
    world.slack.refuse("post", SlackRefused("not_in_channel"), where="#incidents")
    outcome = await world.declare()
    assert outcome.problems == ["announce #incidents: not_in_channel"]
    assert (await world.stored(outcome.incident.id)).header_ts is not None  # the rest of the set-up went on
    warning = world.slack.made("reply")[-1]
    assert "some steps failed" in warning.text and "invite Tocsin" in warning.text


async def test_a_set_up_resumed_after_a_crash_finds_what_it_did_before(declaring: Make) -> None:
    world = await declaring()
    incident, _ = await world.service.record_declaration(asked())  # the declare died right after storing
    async with world.storage() as uow:
        announced = TimelineEntry(TimelineKind.ANNOUNCED, NOW, None, "Announced in #incidents")
        await uow.incidents.record(incident.id, announced)  # it had announced, but not recorded its channel
        await uow.commit()
    world.slack.own_channels["inc-1-checkout-errors"] = CreatedChannel("C0MADE", "inc-1-checkout-errors")
    world.slack.own_messages[("C0MADE", f"{messages.CONTROLS_BLOCK}:{incident.id}")] = "1700000000.000777"
    (taken,) = await world.unfinished(at=NOW + timedelta(minutes=1))
    await world.service.finish_setup(taken, token="sweep")
    assert world.slack.made("create_channel") == []
    stored = await world.stored(incident.id)
    assert (stored.channel_id, stored.header_ts) == ("C0MADE", "1700000000.000777")
    assert world.slack.made("post") == []  # neither the header nor the announcement again
    (told,) = world.slack.made("reply")
    assert told.where == "U0ALICE" and "finished it after an interruption" in told.text


async def test_a_declaration_from_a_message_opens_its_timeline_and_points_back(declaring: Make) -> None:
    world = await declaring()
    source = SourceMessage(channel_id="C0OPS", ts="1764406500.000100", author="U0BOB", text="checkout is 500ing")
    outcome = await world.declare(from_message=source)
    (first, *_) = await world.timeline(outcome.incident)
    assert first.kind is TimelineKind.MESSAGE and first.text == "checkout is 500ing" and first.permalink
    (pointer,) = [c for c in world.slack.made("post") if c.where == "C0OPS"]
    assert pointer.extra["thread_ts"] == source.ts and "was declared from this message" in pointer.text


async def test_a_service_that_pages_on_declare_is_paged(declaring: Make) -> None:
    policy = Policy(
        escalation_policies={"db": EscalationPolicy(tiers=[EscalationTier(notify=["user:U0BOB"])])},
        services={"db": Service(escalation_policy="db", page_on_declare=["SEV1", "SEV2"])},
    )
    world = await declaring(policy)
    outcome = await world.declare(asked(service="db"))
    async with world.storage() as uow:
        (page,) = await uow.pages.for_incident(outcome.incident.id)
    assert page.source == "service:db"
    again = await world.declare(asked(service="db", severity="SEV3", declare_key="k2"))
    async with world.storage() as uow:
        assert await uow.pages.for_incident(again.incident.id) == []
