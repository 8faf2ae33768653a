"""Use cases inside an incident, without HTTP: the real use cases over the in-memory database and a
recording Slack gateway. Each test runs in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.drafts import UpdateDraft
from bot.domain.errors import UserError
from bot.domain.incidents import IC_ROLE, Incident, NewIncident, Status, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.capture import MessageCapture
from bot.usecases.declare import IncidentService
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.outbox import Outbox
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.respond import ResponseService
from bot.usecases.visibility import Visibility
from tests.service.fakes import FakeClock, RecordingSlack, memory_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class World:
    """One incident, #inc-1, declared by Alice (its IC), and the use cases around it."""

    def __init__(self, uow: UnitOfWorkFactory, slack: RecordingSlack, clock: FakeClock, policy: Policy) -> None:
        self.uow, self.slack, self.clock, self.policy = uow, slack, clock, policy
        shown = messages
        header = HeaderKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, min_interval=0)
        self.visibility = Visibility(slack)
        home = HomeKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, visibility=self.visibility)
        self.response = ResponseService(
            uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, header=header, home=home,
            outbox=Outbox(uow=uow, slack=slack, messages=shown, clock=clock), visibility=self.visibility,
        )  # fmt: skip
        self.lifecycle = Lifecycle(uow=uow, messages=shown, policy=policy, clock=clock, announce=self.response.announce)
        self.capture = MessageCapture(uow=uow, slack=slack, messages=shown, clock=clock)
        self.incidents = IncidentService(
            uow=uow, slack=slack, messages=shown, policy=policy, metrics=Metrics(), clock=clock
        )

    async def declared(self) -> Incident:
        new = NewIncident(
            team_id="T1", title="Checkout errors", severity="SEV2", declared_by="U0ALICE", declare_key="k1"
        )
        incident, _ = await self.incidents.record_declaration(new)
        async with self.uow() as uow:
            await uow.incidents.set_channel(incident.id, channel_id="C0INC1", channel_name="inc-1-checkout-errors")
            await uow.incidents.set_header(incident.id, header_ts="1700000000.000001")
            await uow.commit()
        return await self.response.get(incident.id)

    async def timeline(self, incident: Incident) -> list[TimelineEntry]:
        async with self.uow(read_only=True) as uow:
            return await uow.incidents.timeline(incident.id)


@pytest.fixture
async def world() -> World:
    return World(await memory_database(), RecordingSlack(), FakeClock(NOW), Policy())


async def test_a_bystander_cannot_take_the_held_ic_role_and_nothing_changes(world: World) -> None:
    incident = await world.declared()
    before = await world.timeline(incident)
    with pytest.raises(UserError, match="Incident Commander"):
        await world.response.assign_role(incident.id, role=IC_ROLE, user_id="U0MALLORY", actor="U0MALLORY")
    assert (await world.response.get(incident.id)).commander == "U0ALICE"
    assert await world.timeline(incident) == before
    assert world.slack.calls == []


async def test_the_ic_hands_over_recorded_announced_invited_and_the_header_refreshed(world: World) -> None:
    incident = await world.declared()
    changed = await world.response.assign_role(incident.id, role=IC_ROLE, user_id="U0BOB", actor="U0ALICE")
    assert changed.commander == "U0BOB" == (await world.response.get(incident.id)).commander
    assert "handed over from <@U0ALICE>" in (await world.timeline(incident))[-1].text
    (invite,) = world.slack.made("invite")
    assert invite.where == "C0INC1" and invite.extra["users"] == ["U0BOB"]
    (notice,) = world.slack.made("post")
    assert notice.where == "C0INC1" and "<@U0BOB>" in notice.text
    assert [c.extra["ts"] for c in world.slack.made("update_message")] == ["1700000000.000001"]


async def test_a_status_update_reaches_the_channel_and_sets_the_next_due_time(world: World) -> None:
    incident = await world.declared()
    world.clock.advance(minutes=20)
    draft = UpdateDraft(known="EU card payments fail", doing="Rolling back 4.2")
    await world.response.post_update(incident.id, draft=draft, actor="U0ALICE", reply_to=None)
    posts = world.slack.made("post")  # the channel, and the severity's stakeholders (#incidents by default)
    assert sorted(p.where for p in posts) == ["#incidents", "C0INC1"]
    assert all("EU card payments fail" in p.text for p in posts)
    after = await world.response.get(incident.id)
    assert after.next_update_due is not None and after.next_update_due > world.clock()
    assert (await world.timeline(incident))[-1].kind is TimelineKind.UPDATE


async def test_a_resolved_incident_refuses_a_status_move_back_without_reopening(world: World) -> None:
    incident = await world.declared()
    await world.lifecycle.change_status(incident.id, status=Status.MONITORING, actor="U0ALICE")
    assert (await world.response.get(incident.id)).status is Status.MONITORING
    posts = len(world.slack.made("post"))
    with pytest.raises(UserError):
        await world.lifecycle.change_status(incident.id, status=Status.CLOSED, actor="U0ALICE")
    assert len(world.slack.made("post")) == posts


async def test_a_pinned_message_is_captured_once_whatever_the_redeliveries(world: World) -> None:
    incident = await world.declared()
    message = {"user": "U0BOB", "text": "rolled back &amp; watching", "permalink": "https://x.slack.com/p1"}
    pinned: dict[str, Any] = {"channel_id": "C0INC1", "ts": "1700000100.000200", "reason": "pin", "message": message}
    kept = [await world.capture.capture(event_id=event, **pinned) for event in ("Ev1", "Ev1", "Ev2")]
    assert kept == [True, False, True]  # a redelivery is ignored; a second pin event is the same entry
    captured = [e for e in await world.timeline(incident) if e.kind is TimelineKind.MESSAGE]
    assert [(e.actor, e.text) for e in captured] == [("U0BOB", "rolled back & watching")]
    assert world.slack.calls == []  # the message came with the event: Slack was not asked


async def test_a_control_used_outside_its_incident_channel_changes_nothing(world: World) -> None:
    incident = await world.declared()
    before = await world.timeline(incident)
    with pytest.raises(UserError, match="another incident's channel"):
        await world.response.change_severity(
            incident.id, severity="SEV1", reason="", actor="U0ALICE", reply_to=None, in_channel="C0ELSEWHERE"
        )
    with pytest.raises(UserError, match="another incident's channel"):
        await world.response.acknowledge(
            incident.id, actor="U0ALICE", reply_to=ReplyTarget("U0ALICE"), in_channel="C0ELSEWHERE"
        )
    assert await world.timeline(incident) == before and world.slack.calls == []
    changed = await world.response.change_severity(
        incident.id, severity="SEV1", reason="", actor="U0ALICE", reply_to=None, in_channel="C0INC1"
    )
    assert changed.severity == "SEV1" and changed.next_update_due is not None
