"""Runbooks in the incident channel: the matching ones posted once, others on request, and each step
ticked by whoever did it (on the timeline), the checklist shown ticked for everyone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused, UserError
from bot.domain.incidents import Incident, TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.slack import messages
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService
from tests.service.fakes import (
    FakeClock,
    ScriptedSlack,
    incident_in_channel,
    runbook_library,
    shown,
    sqlite_database,
    timeline_texts,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ALICE = ReplyTarget("U0ALICE", "C0INC1")


class Runbooks:
    """An incident about a database, in #inc-1, and the runbook use cases around it."""

    def __init__(self, uow: UnitOfWorkFactory, folder: Path) -> None:
        self.uow, self.slack = uow, ScriptedSlack()
        library = runbook_library(folder, Policy())
        self.service = RunbookService(
            uow=uow, slack=self.slack, messages=messages, library=library, clock=FakeClock(NOW)
        )

    async def incident(self) -> Incident:
        return await incident_in_channel(self.uow, now=NOW, title="Database latency")


@pytest.fixture
async def runbooks(tmp_path: Path) -> AsyncIterator[Runbooks]:
    async with sqlite_database(tmp_path) as uow:
        yield Runbooks(uow, tmp_path)


async def test_the_matching_runbook_is_posted_once_and_listed_as_posted(runbooks: Runbooks) -> None:
    incident = await runbooks.incident()
    assert await runbooks.service.post_matching(incident) == ["database"]
    assert await runbooks.service.post_matching(incident) == []  # on a severity change, say: not again
    (checklist,) = runbooks.slack.made("post")
    assert checklist.where == "C0INC1" and "Database failover (0 of 2 steps done)" in checklist.text
    assert await timeline_texts(runbooks.uow, incident.id, TimelineKind.RUNBOOK) == [
        "Runbook posted: Database failover"
    ]
    text, _ = await runbooks.service.listing(incident)
    assert text == f"1 runbooks match {incident.reference}"


async def test_a_runbook_is_posted_by_name_once_and_an_unknown_name_is_refused(runbooks: Runbooks) -> None:
    incident = await runbooks.incident()
    with pytest.raises(UserError, match="available: database, payments"):
        await runbooks.service.post_named(incident, "failover", actor="U0ALICE", reply_to=ALICE)
    assert runbooks.slack.calls == []
    await runbooks.service.post_named(incident, "payments", actor="U0ALICE", reply_to=ALICE)
    await runbooks.service.post_named(incident, "payments", actor="U0ALICE", reply_to=ALICE)
    assert len(runbooks.slack.made("post")) == 1
    (told,) = runbooks.slack.made("reply")
    assert "already in this channel" in told.text


async def test_a_step_ticked_is_recorded_once_and_the_checklist_shows_it(runbooks: Runbooks) -> None:
    incident = await runbooks.incident()
    await runbooks.service.post_matching(incident)
    service = runbooks.service
    assert await service.toggle(incident.id, "database", "s1", ticked=True, actor="U0BOB")
    assert not await service.toggle(incident.id, "database", "s1", ticked=True, actor="U0CAROL")  # Bob was first
    edits = runbooks.slack.made("update_message")
    assert edits and edits[-1].extra["ts"] == "1700000000.000001" and "(1 of 2 steps done)" in edits[-1].text
    assert "initial_options" in shown(edits[-1])
    assert await service.toggle(incident.id, "database", "s1", ticked=False, actor="U0BOB")
    notes = await timeline_texts(runbooks.uow, incident.id, TimelineKind.RUNBOOK)
    assert notes == [
        "Runbook posted: Database failover",
        "Ticked “Check replication lag” (Database failover)",
        "Unticked “Check replication lag” (Database failover)",
    ]
    with pytest.raises(UserError, match="no longer exists"):
        await service.toggle(incident.id, "database", "s9", ticked=True, actor="U0BOB")


async def test_a_runbook_slack_refused_is_not_remembered_and_is_posted_next_time(runbooks: Runbooks) -> None:
    incident = await runbooks.incident()
    runbooks.slack.refuse("post", SlackRefused("not_in_channel"))
    with pytest.raises(SlackRefused):
        await runbooks.service.post_matching(incident)
    assert await timeline_texts(runbooks.uow, incident.id, TimelineKind.RUNBOOK) == []
    runbooks.slack.allow("post")
    assert await runbooks.service.post_matching(incident) == ["database"]


async def test_a_tick_stands_when_slack_refuses_to_show_it(runbooks: Runbooks) -> None:
    incident = await runbooks.incident()
    await runbooks.service.post_matching(incident)
    runbooks.slack.refuse("update_message", SlackRefused("message_not_found"))
    assert await runbooks.service.toggle(incident.id, "database", "s2", ticked=True, actor="U0BOB")
    notes = await timeline_texts(runbooks.uow, incident.id, TimelineKind.RUNBOOK)
    assert notes[-1] == "Ticked “Promote the replica” (Database failover)"
