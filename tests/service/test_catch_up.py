"""Catching people up: the summary of an incident as stored (last update, follow-ups, runbook progress),
shown privately or shared in its channel; whoever joins the channel gets it once, unless Tocsin brought
them along with a role; a new Incident Commander gets it by DM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused
from bot.domain.follow_ups import NewFollowUp
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.slack import messages
from bot.usecases.catch_up import CatchUp
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService
from tests.service.fakes import FakeClock, ScriptedSlack, incident_in_channel, runbook_library, shown, sqlite_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Catching:
    """A database incident in #inc-1 an hour old, with an update, a follow-up and its runbook half done."""

    def __init__(self, uow: UnitOfWorkFactory, folder: Path) -> None:
        self.uow, self.slack, self.clock = uow, ScriptedSlack(), FakeClock(NOW)
        library = runbook_library(folder, Policy())
        self.runbooks = RunbookService(uow=uow, slack=self.slack, messages=messages, library=library, clock=self.clock)
        self.catch_up = CatchUp(
            uow=uow, slack=self.slack, messages=messages, policy=Policy(), clock=self.clock, runbooks=self.runbooks
        )

    async def incident(self) -> Incident:
        incident = await incident_in_channel(self.uow, now=NOW - timedelta(hours=1), title="Database latency")
        await self.runbooks.post_matching(incident)
        await self.runbooks.toggle(incident.id, "database", "s1", ticked=True, actor="U0BOB")
        async with self.uow() as work:
            update = TimelineEntry(TimelineKind.UPDATE, NOW - timedelta(minutes=10), "U0ALICE", "Failing over the db")
            await work.incidents.record(incident.id, update)
            await work.follow_ups.add(
                incident.id, NewFollowUp("Add a lag alert"), by="U0ALICE", now=NOW, remind_at=None
            )
            await work.commit()
        self.slack.calls.clear()
        return incident


@pytest.fixture
async def catching(tmp_path: Path) -> AsyncIterator[Catching]:
    async with sqlite_database(tmp_path) as uow:
        yield Catching(uow, tmp_path)


async def test_the_summary_is_the_incident_as_stored(catching: Catching) -> None:
    incident = await catching.incident()
    summary = await catching.catch_up.summary(incident.id)
    assert summary is not None and summary.incident.title == "Database latency"
    assert summary.last_update is not None and summary.last_update.text == "Failing over the db"
    assert [f.text for f in summary.open_follow_ups] == ["Add a lag alert"]
    assert [(r.name, r.ticked, r.total) for r in summary.runbooks] == [("database", 1, 2)]
    assert await catching.catch_up.summary(incident.id + 1) is None


async def test_shared_only_in_its_own_channel_and_otherwise_shown_privately(catching: Catching) -> None:
    incident = await catching.incident()
    await catching.catch_up.show(incident, share=True, reply_to=ReplyTarget("U0BOB", "C0INC1"))
    await catching.catch_up.show(incident, share=True, reply_to=ReplyTarget("U0BOB", "C0RANDOM"))
    await catching.catch_up.show(incident, share=False, reply_to=ReplyTarget("U0BOB", "C0INC1"))
    (posted,) = catching.slack.made("post")
    assert posted.where == "C0INC1" and "Failing over the db" in shown(posted)
    assert [c.where for c in catching.slack.made("reply")] == ["U0BOB", "U0BOB"]


async def test_whoever_joins_is_welcomed_once_but_not_tocsin_nor_someone_it_gave_a_role(catching: Catching) -> None:
    incident = await catching.incident()
    joined = catching.catch_up.joined
    await joined("C0INC1", "U0BOB", inviter=None, joined_at=NOW)
    await joined("C0INC1", "U0BOB", inviter=None, joined_at=NOW + timedelta(hours=1))  # left and came back
    await joined("C0INC1", "U0TOCSIN", inviter=None, joined_at=NOW)
    await joined("C0RANDOM", "U0CAROL", inviter=None, joined_at=NOW)  # not an incident's channel
    async with catching.uow() as work:
        await work.incidents.assign_role(incident.id, role="comms_lead", user_id="U0DAN", by="U0ALICE", now=NOW)
        await work.commit()
    await joined("C0INC1", "U0DAN", inviter="U0TOCSIN", joined_at=NOW + timedelta(seconds=2))  # the role says why
    (welcome,) = catching.slack.made("reply")
    assert welcome.where == "U0BOB" and "Database latency" in welcome.text


async def test_a_new_commander_gets_the_summary_by_dm(catching: Catching) -> None:
    incident = await catching.incident()
    await catching.catch_up.handover(incident, "U0BOB")
    await catching.catch_up.handover(incident, "U0TOCSIN")  # an automatic handover to Tocsin: nobody to tell
    (dm,) = catching.slack.made("dm")
    assert dm.where == "U0BOB" and "You're now the Incident Commander" in dm.text
    assert "Add a lag alert" in shown(dm)


async def test_a_welcome_slack_refuses_is_not_tried_again_on_the_next_join(catching: Catching) -> None:
    await catching.incident()
    catching.slack.refuse("reply", SlackRefused("user_not_in_channel"))
    with pytest.raises(SlackRefused):
        await catching.catch_up.joined("C0INC1", "U0BOB", inviter=None, joined_at=NOW)
    catching.slack.allow("reply")
    await catching.catch_up.joined("C0INC1", "U0BOB", inviter=None, joined_at=NOW)
    assert len(catching.slack.made("reply")) == 1  # at most once per person and incident
