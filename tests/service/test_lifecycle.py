"""The incident lifecycle: status moves by those the policy allows, resolving (pages stop and their DMs
say why, the resolution reaches the stakeholders, the postmortem draft is published), postmortem done
only once resolved, and reopening only what is resolved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.drafts import ResolutionDraft
from bot.domain.errors import SlackRefused, UserError
from bot.domain.escalation import CANCELLED
from bot.domain.incidents import Incident, Status, TimelineKind
from bot.domain.policy import Policy
from bot.domain.postmortem import default_template
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.announce import Announcer
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.outbox import Outbox
from bot.usecases.paging import Pager
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.postmortems import PostmortemService
from bot.usecases.visibility import Visibility
from tests.service.fakes import (
    FakeClock,
    ScriptedSlack,
    fire_page_steps,
    incident_in_channel,
    sqlite_database,
    stored_incident,
    timeline_texts,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
RESOLVED = ResolutionDraft(summary="Rolled back 4.2", impact="EU card payments failed for 20 minutes")


class Lives:
    """An incident in #inc-1 (Alice its IC) and the lifecycle use cases, with paging and postmortems."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack, self.clock, policy = uow, ScriptedSlack(), FakeClock(NOW), Policy()
        slack, clock = self.slack, self.clock
        announcer = Announcer(
            slack=slack, policy=policy,
            header=HeaderKeeper(uow=uow, slack=slack, messages=messages, policy=policy, clock=clock, min_interval=0),
            home=HomeKeeper(uow=uow, slack=slack, messages=messages, policy=policy, clock=clock,
                            visibility=Visibility(slack)),
            outbox=Outbox(uow=uow, slack=slack, messages=messages, clock=clock),
        )  # fmt: skip
        self.pager = Pager(uow=uow, slack=slack, messages=messages, policy=policy, clock=clock, metrics=Metrics())
        postmortems = PostmortemService(
            uow=uow, slack=slack, policy=policy, clock=clock, template=default_template(), messages=messages
        )
        self.lifecycle = Lifecycle(
            uow=uow, messages=messages, policy=policy, clock=clock, announce=announcer, postmortems=postmortems,
            metrics=Metrics(), pager=self.pager,
        )  # fmt: skip

    async def incident(self) -> Incident:
        return await incident_in_channel(self.uow, now=NOW)

    async def stored(self, incident: Incident) -> Incident:
        return await stored_incident(self.uow, incident.id)


@pytest.fixture
async def lives(tmp_path: Path) -> AsyncIterator[Lives]:
    async with sqlite_database(tmp_path) as uow:
        yield Lives(uow)


async def test_the_commander_moves_the_status_and_the_channel_hears_of_it(lives: Lives) -> None:
    incident = await lives.incident()
    lives.clock.advance(minutes=5)
    changed = await lives.lifecycle.change_status(incident.id, status=Status.IDENTIFIED, actor="U0ALICE")
    assert changed.status is Status.IDENTIFIED and changed.identified_at == lives.clock()
    assert await timeline_texts(lives.uow, incident.id, TimelineKind.STATUS_CHANGED) == ["Investigating → Identified"]
    (notice,) = lives.slack.made("post")
    assert notice.where == "C0INC1" and "Identified" in notice.text  # a status move stays in the channel


async def test_a_bystander_cannot_move_the_status_and_resolving_has_its_own_way(lives: Lives) -> None:
    incident = await lives.incident()
    with pytest.raises(UserError):
        await lives.lifecycle.change_status(incident.id, status=Status.MONITORING, actor="U0MALLORY")
    with pytest.raises(UserError, match="resolve"):
        await lives.lifecycle.change_status(incident.id, status=Status.RESOLVED, actor="U0ALICE")
    with pytest.raises(UserError):
        await lives.lifecycle.resolve(incident.id, draft=RESOLVED, actor="U0MALLORY", reply_to=None)
    assert (await lives.stored(incident)).status is Status.INVESTIGATING
    assert await timeline_texts(lives.uow, incident.id, TimelineKind.STATUS_CHANGED) == []
    assert lives.slack.calls == []


async def test_resolving_stops_the_pages_tells_the_stakeholders_and_publishes_the_draft(lives: Lives) -> None:
    incident = await lives.incident()
    page_id = await lives.pager.page_user(incident, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    await fire_page_steps(lives.uow, lives.pager, now=NOW)
    (page_dm,) = lives.slack.made("dm")
    lives.slack.calls.clear()
    lives.clock.advance(hours=1)
    resolved = await lives.lifecycle.resolve(incident.id, draft=RESOLVED, actor="U0ALICE", reply_to=None)
    assert resolved.status is Status.RESOLVED and resolved.resolved_at == lives.clock()
    assert resolved.next_update_due is None and resolved.customer_impact == RESOLVED.impact
    assert (await lives.pager.get(page_id)).status == CANCELLED
    (settled,) = [c for c in lives.slack.made("update_message") if c.where == f"D{page_dm.where}"]
    assert settled.text.endswith("This page was cancelled: the incident was resolved.")  # and its buttons gone
    posts = lives.slack.made("post")
    assert {"C0INC1", "#incidents"} <= {p.where for p in posts}
    assert [c.where for c in lives.slack.made("create_channel_canvas")] == ["C0INC1"]
    assert await fire_page_steps(lives.uow, lives.pager, now=NOW + timedelta(hours=2)) == []  # nobody paged again
    notes = await timeline_texts(lives.uow, incident.id, TimelineKind.PAGE)
    assert notes[-1] == "Paging stopped: the incident was resolved (1 page(s) still escalating)"


async def test_the_postmortem_is_done_only_once_resolved_and_reopening_only_what_is(lives: Lives) -> None:
    incident = await lives.incident()
    with pytest.raises(UserError, match="once the incident is resolved"):
        await lives.lifecycle.postmortem_done(incident.id, actor="U0ALICE")
    with pytest.raises(UserError, match="not resolved"):
        await lives.lifecycle.reopen(incident.id, reason="", actor="U0ALICE")
    await lives.lifecycle.resolve(incident.id, draft=RESOLVED, actor="U0ALICE", reply_to=None)
    lives.clock.advance(minutes=30)
    reopened = await lives.lifecycle.reopen(incident.id, reason="Errors are back", actor="U0ALICE")
    assert reopened.status is Status.INVESTIGATING and reopened.resolved_at is None
    assert reopened.next_update_due is not None and reopened.next_update_due > lives.clock()
    await lives.lifecycle.resolve(incident.id, draft=RESOLVED, actor="U0ALICE", reply_to=None)
    closed = await lives.lifecycle.postmortem_done(incident.id, actor="U0ALICE")
    assert closed.status is Status.CLOSED
    assert await timeline_texts(lives.uow, incident.id, TimelineKind.REOPENED) == ["Errors are back"]


async def test_an_incident_is_resolved_even_when_a_stakeholder_channel_refuses_the_news(lives: Lives) -> None:
    incident = await lives.incident()
    lives.slack.refuse("post", SlackRefused("not_in_channel"), where="#incidents")
    resolved = await lives.lifecycle.resolve(incident.id, draft=RESOLVED, actor="U0ALICE", reply_to=None)
    assert resolved.status is Status.RESOLVED and (await lives.stored(incident)).status is Status.RESOLVED
    assert "C0INC1" in [p.where for p in lives.slack.made("post")]
