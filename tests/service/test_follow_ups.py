"""Follow-ups: added to an incident (on its timeline, announced in its channel), refused when empty or
due in the past, listed as each person may see them, marked done once, and their owners reminded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused, UserError
from bot.domain.follow_ups import FollowUp, NewFollowUp
from bot.domain.incidents import TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.timer_results import FollowUpReminded, Released
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.visibility import Visibility
from tests.service.fakes import (
    FakeClock,
    ScriptedSlack,
    event_kinds,
    incident_in_channel,
    sqlite_database,
    timeline_texts,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ALICE = ReplyTarget("U0ALICE", "C0INC1")
DUE = date(2026, 12, 1)


class FollowUps:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack = uow, ScriptedSlack()
        self.service = FollowUpService(
            uow=uow, slack=self.slack, messages=messages, policy=Policy(), clock=FakeClock(NOW), metrics=Metrics(),
            visibility=Visibility(self.slack),
        )  # fmt: skip

    async def stored(self, follow_up_id: int) -> FollowUp:
        return await self.service.get(follow_up_id)


@pytest.fixture
async def follow_ups(tmp_path: Path) -> AsyncIterator[FollowUps]:
    async with sqlite_database(tmp_path) as uow:
        yield FollowUps(uow)


async def test_a_follow_up_is_stored_on_the_timeline_logged_and_announced(follow_ups: FollowUps) -> None:
    incident = await incident_in_channel(follow_ups.uow, now=NOW)
    item = NewFollowUp(text="  Add a   pool alert ", owner="U0BOB", due_on=DUE)
    added = await follow_ups.service.add(incident, item, actor="U0ALICE", reply_to=ALICE)
    assert (added.text, added.owner, added.due_on, added.created_by) == ("Add a pool alert", "U0BOB", DUE, "U0ALICE")
    assert added.remind_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 09:00 on the due date, the policy's zone
    notes = await timeline_texts(follow_ups.uow, incident.id, TimelineKind.FOLLOW_UP)
    assert notes == ["Follow-up added: Add a pool alert (owner <@U0BOB>), due 2026-12-01"]
    (line,) = follow_ups.slack.made("post")
    assert line.where == "C0INC1" and "Add a pool alert" in line.text
    assert follow_ups.slack.made("invite") == []  # public: nobody needs inviting
    assert await event_kinds(follow_ups.uow, incident.id) == ["follow_up.created"]


async def test_an_empty_or_overdue_follow_up_is_refused_and_nothing_changes(follow_ups: FollowUps) -> None:
    incident = await incident_in_channel(follow_ups.uow, now=NOW)
    with pytest.raises(UserError, match="needs a description"):
        await follow_ups.service.add(incident, NewFollowUp(text="   "), actor="U0ALICE", reply_to=ALICE)
    with pytest.raises(UserError, match="in the past"):
        past = NewFollowUp(text="Add an alert", due_on=date(2026, 11, 28))
        await follow_ups.service.add(incident, past, actor="U0ALICE", reply_to=ALICE)
    assert await timeline_texts(follow_ups.uow, incident.id, TimelineKind.FOLLOW_UP) == []
    assert follow_ups.slack.calls == [] and await event_kinds(follow_ups.uow, incident.id) == []


async def test_a_private_incidents_owner_is_invited_and_only_members_see_its_follow_ups(follow_ups: FollowUps) -> None:
    secret = await incident_in_channel(follow_ups.uow, now=NOW, channel_id="C0SEC", private=True, title="Leaked keys")
    public = await incident_in_channel(follow_ups.uow, now=NOW, channel_id="C0PUB")
    await follow_ups.service.add(secret, NewFollowUp(text="Rotate keys", owner="U0BOB"), actor="U0ALICE", reply_to=None)
    await follow_ups.service.add(public, NewFollowUp(text="Add an alert"), actor="U0ALICE", reply_to=None)
    (invite,) = follow_ups.slack.made("invite")
    assert invite.where == "C0SEC" and invite.extra["users"] == ["U0BOB"]  # the reminders will tell its text
    follow_ups.slack.members["C0SEC"] = {"U0ALICE", "U0BOB"}
    member_sees, _ = await follow_ups.service.listing(team_id="T1", scope="all", actor="U0BOB")
    outsider_sees, _ = await follow_ups.service.listing(team_id="T1", scope="all", actor="U0EVE")
    assert "Rotate keys" in member_sees and "Add an alert" in member_sees
    assert "Rotate keys" not in outsider_sees and "Add an alert" in outsider_sees
    mine, _ = await follow_ups.service.listing(team_id="T1", scope="mine", actor="U0BOB")
    assert mine.startswith("Your open follow-ups") and "Rotate keys" in mine and "Add an alert" not in mine


async def test_marking_done_counts_once_and_the_second_click_says_by_whom(follow_ups: FollowUps) -> None:
    incident = await incident_in_channel(follow_ups.uow, now=NOW)
    added = await follow_ups.service.add(incident, NewFollowUp(text="Add an alert"), actor="U0ALICE", reply_to=ALICE)
    await follow_ups.service.mark_done(added.id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    await follow_ups.service.mark_done(added.id, actor="U0CAROL", reply_to=ReplyTarget("U0CAROL"))
    first, second = follow_ups.slack.made("reply")
    assert "Done: Add an alert" in first.text and second.text == "That follow-up was already marked done by <@U0BOB>."
    done = await follow_ups.stored(added.id)
    assert not done.is_open and done.done_by == "U0BOB" and done.remind_at is None
    notes = await timeline_texts(follow_ups.uow, incident.id, TimelineKind.FOLLOW_UP)
    assert notes[-1] == "Follow-up done: Add an alert" and len(notes) == 2
    assert await event_kinds(follow_ups.uow, incident.id) == ["follow_up.created", "follow_up.closed"]


async def test_the_owner_else_the_commander_is_reminded_weekly_until_done(follow_ups: FollowUps) -> None:
    incident = await incident_in_channel(follow_ups.uow, now=NOW)
    service = follow_ups.service
    owned = await service.add(incident, NewFollowUp("Add an alert", "U0BOB", DUE), actor="U0ALICE", reply_to=ALICE)
    nobodys = await service.add(incident, NewFollowUp("Write docs", None, DUE), actor="U0ALICE", reply_to=ALICE)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    reminded = [await service.send_reminder(await follow_ups.stored(i.id), now=at) for i in (owned, nobodys)]
    assert all(isinstance(r, FollowUpReminded) and r.next_at == at + timedelta(days=7) for r in reminded)
    assert [(c.where, "due today" in c.text) for c in follow_ups.slack.made("dm")] == [
        ("U0BOB", True),
        ("U0ALICE", True),
    ]
    await service.mark_done(owned.id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    assert await service.send_reminder(await follow_ups.stored(owned.id), now=at) == Released("follow_up", owned.id)
    assert len(follow_ups.slack.made("dm")) == 2


async def test_a_follow_up_stands_when_slack_refuses_its_announcement(follow_ups: FollowUps) -> None:
    incident = await incident_in_channel(follow_ups.uow, now=NOW)
    follow_ups.slack.refuse("post", SlackRefused("not_in_channel"))
    with pytest.raises(SlackRefused):  # the person hears of the error (the entrypoint's reply)
        await follow_ups.service.add(incident, NewFollowUp(text="Add an alert"), actor="U0ALICE", reply_to=ALICE)
    listed, _ = await follow_ups.service.listing(team_id="T1", scope="incident", actor="U0ALICE", incident=incident)
    assert listed.startswith(f"Follow-ups of {incident.reference}") and "Add an alert" in listed
