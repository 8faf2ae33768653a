"""Making a private incident public: only its IC (by default) may, and only a private one; the incident
moves to a new public channel set up like a declared one, the private channel's people are invited to
it, pointed to it and the private channel archived; a step Slack refuses is finished by the sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused, UserError
from bot.domain.incidents import Incident, TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.going_public import GoingPublic, refuse_making_private
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.paging import Pager
from bot.usecases.setup import IncidentSetup
from bot.usecases.visibility import Visibility
from storage.uow import UnitOfWork
from tests.service.fakes import (
    FakeClock,
    ScriptedSlack,
    incident_in_channel,
    sqlite_database,
    stored_incident,
    timeline_texts,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ALICE = ReplyTarget("U0ALICE", "C0SEC")
PUBLIC = "C0INC1LEAKED"  # what the recording Slack calls #inc-1-leaked-keys


class Moving:
    """A private incident in #inc-1 (C0SEC: Alice its IC, Bob there too), and the use case that moves it."""

    def __init__(self, uow: Callable[..., UnitOfWork]) -> None:
        self.uow, self.slack, self.clock, policy = uow, ScriptedSlack(), FakeClock(NOW), Policy()
        slack, clock, shown = self.slack, self.clock, messages
        self.slack.members["C0SEC"] = {"U0ALICE", "U0BOB", "U0TOCSIN"}
        setup = IncidentSetup(
            uow=uow, slack=slack, messages=shown, policy=policy, clock=clock,
            header=HeaderKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, min_interval=0),
            home=HomeKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock,
                            visibility=Visibility(slack)),
            pager=Pager(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, metrics=Metrics()),
        )  # fmt: skip
        self.setup = setup
        self.going = GoingPublic(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, setup=setup)

    async def incident(self) -> Incident:
        return await incident_in_channel(self.uow, now=NOW, channel_id="C0SEC", private=True, title="Leaked keys")

    async def stored(self, incident: Incident) -> Incident:
        return await stored_incident(self.uow, incident.id)


@pytest.fixture
async def moving(tmp_path: Path) -> AsyncIterator[Moving]:
    async with sqlite_database(tmp_path) as uow:
        yield Moving(uow)


async def test_only_the_commander_makes_a_private_incident_public_and_never_the_reverse(moving: Moving) -> None:
    incident = await moving.incident()
    with pytest.raises(UserError):
        await moving.going.make_public(incident.id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    assert (await moving.stored(incident)).private and moving.slack.calls == []
    public = await incident_in_channel(moving.uow, now=NOW, channel_id="C0PUB")
    with pytest.raises(UserError, match="public already"):
        await moving.going.make_public(public.id, actor="U0ALICE", reply_to=ALICE)
    with pytest.raises(UserError, match="declare a private incident"):
        refuse_making_private(public)


async def test_the_incident_moves_to_a_new_public_channel_and_the_private_one_is_left_behind(moving: Moving) -> None:
    incident = await moving.incident()
    await moving.going.make_public(incident.id, actor="U0ALICE", reply_to=ALICE)
    moved = await moving.stored(incident)
    assert not moved.private and moved.channel_id == PUBLIC and moved.moved_from is None and moved.header_ts
    (created,) = moving.slack.made("create_channel")
    assert created.where == "inc-1-leaked-keys" and not created.extra["private"]
    invited = {user for c in moving.slack.made("invite") if c.where == PUBLIC for user in c.extra["users"]}
    assert invited == {"U0ALICE", "U0BOB"}  # the private channel's people, not Tocsin itself
    (pointer,) = [c for c in moving.slack.made("post") if c.where == "C0SEC"]
    assert "now public" in pointer.text
    assert [c.where for c in moving.slack.made("archive")] == ["C0SEC"]
    assert "#incidents" in [c.where for c in moving.slack.made("post")]  # announced as if new
    notes = await timeline_texts(moving.uow, incident.id, TimelineKind.VISIBILITY)
    assert notes == ["Made public (the private channel was #inc-1)"]
    (told,) = moving.slack.made("reply")
    assert told.where == "U0ALICE" and told.text.startswith(":unlock:")


async def test_a_move_slack_interrupts_is_finished_by_the_sweep_without_a_second_pointer(moving: Moving) -> None:
    incident = await moving.incident()
    moving.slack.refuse("archive", SlackRefused("ratelimited", retryable=True))
    await moving.going.make_public(incident.id, actor="U0ALICE", reply_to=ALICE)
    assert (await moving.stored(incident)).moved_from == "C0SEC"  # not done until the private side is
    moving.slack.allow("archive")
    moving.slack.own_messages[("C0SEC", messages.moved_marker(incident.id))] = "1700000000.000900"
    async with moving.uow() as work:
        (taken,) = await work.setups.claim(now=NOW + timedelta(hours=1), lease=timedelta(minutes=1), token="s", limit=5)
        await work.commit()
    await moving.setup.run(taken, reply_to=None, token="s", resumed=True)
    assert (await moving.stored(incident)).moved_from is None
    assert len([c for c in moving.slack.made("post") if c.where == "C0SEC"]) == 1  # found, not posted again
    assert len(moving.slack.made("create_channel")) == 1 and len(moving.slack.made("archive")) == 2
