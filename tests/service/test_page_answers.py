"""Answering a page: the first acknowledgement stops it, joins the responder to the incident channel and
settles every DM; a later one is told who was first; declining passes it to the next tier now; a page
whose alerts resolved is cancelled; Acknowledge all takes every page of a digest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused
from bot.domain.escalation import ACKNOWLEDGED, CANCELLED, TRIGGERED
from bot.domain.incidents import Incident, TimelineKind
from bot.domain.page_digests import STORM_THRESHOLD
from bot.domain.policy import EscalationPolicy, EscalationTier, Policy, Service
from bot.domain.slack_values import ReplyTarget
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases import page_dms
from bot.usecases.paging import Pager
from bot.usecases.ports import UnitOfWorkFactory
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
POLICY = Policy(
    escalation_policies={
        "db": EscalationPolicy(
            tiers=[
                EscalationTier(notify=["user:U0BOB", "user:U0CAROL"], after=timedelta(minutes=5)),
                EscalationTier(notify=["user:U0DAN"]),
            ]
        )
    },
    services={"db": Service(escalation_policy="db")},
)


class Answering:
    """The db service's escalation (Bob and Carol, then Dan) and an incident in #inc-1."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack, self.clock, self.woken = uow, ScriptedSlack(), FakeClock(NOW), 0
        self.pager = Pager(
            uow=uow,
            slack=self.slack,
            messages=messages,
            policy=POLICY,
            clock=self.clock,
            metrics=Metrics(),
            wake=self.wake,
        )

    def wake(self) -> None:
        self.woken += 1

    async def paged(self) -> tuple[Incident, int]:
        """The incident, and its page of the db service with the first tier's DMs sent."""
        incident = await incident_in_channel(self.uow, now=NOW)
        page_id = await self.pager.page_service(incident, service="db", actor="U0ALICE", team_id="T1")
        await fire_page_steps(self.uow, self.pager, now=NOW)
        self.slack.calls.clear()
        return incident, page_id


@pytest.fixture
async def answering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Answering]:
    monkeypatch.setattr(page_dms, "DIGEST_EDIT_INTERVAL", 0.0)  # digest edits at once: no waiting on the clock
    async with sqlite_database(tmp_path) as uow:
        yield Answering(uow)


async def test_the_first_acknowledgement_stops_the_page_joins_the_responder_and_settles_the_dms(
    answering: Answering,
) -> None:
    incident, page_id = await answering.paged()
    answering.clock.advance(minutes=2)
    assert await answering.pager.acknowledge(page_id, actor="U0CAROL", reply_to=ReplyTarget("U0CAROL"))
    page = await answering.pager.get(page_id)
    assert page.status == ACKNOWLEDGED and page.acknowledged_by == "U0CAROL"
    (invite,) = answering.slack.made("invite")
    assert invite.where == "C0INC1" and invite.extra["users"] == ["U0CAROL"]
    (notice,) = answering.slack.made("post")
    assert notice.where == "C0INC1" and "<@U0CAROL> acknowledged" in notice.text
    settled = answering.slack.made("update_message")
    assert sorted(c.where for c in settled) == ["DU0BOB", "DU0CAROL"]  # both DMs lose their buttons
    assert all("Acknowledged by <@U0CAROL>" in c.text for c in settled)
    stored = await stored_incident(answering.uow, incident.id)
    assert stored.acknowledged_by == "U0CAROL" and stored.acknowledged_at == answering.clock()
    assert "Page acknowledged (service:db)" in await timeline_texts(
        answering.uow, incident.id, TimelineKind.ACKNOWLEDGED
    )
    answering.slack.calls.clear()
    assert not await answering.pager.acknowledge(page_id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    (told,) = answering.slack.made("reply")
    assert told.text == "That page was already acknowledged by <@U0CAROL>."
    assert await fire_page_steps(answering.uow, answering.pager, now=NOW + timedelta(minutes=10)) == []


async def test_declining_passes_the_page_to_the_next_tier_now(answering: Answering) -> None:
    incident, page_id = await answering.paged()
    await answering.pager.decline(page_id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    assert answering.woken == 2  # once when it started, once now
    (told,) = answering.slack.made("reply")
    assert told.text.startswith("Declined")
    await fire_page_steps(answering.uow, answering.pager, now=NOW + timedelta(seconds=1))
    assert [c.where for c in answering.slack.made("dm")] == ["U0DAN"]  # not waiting out the first tier
    assert "Page declined" in await timeline_texts(answering.uow, incident.id, TimelineKind.PAGE)
    await answering.pager.acknowledge(page_id, actor="U0DAN", reply_to=ReplyTarget("U0DAN"))
    answering.slack.calls.clear()
    await answering.pager.decline(page_id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    assert [c.text for c in answering.slack.made("reply")] == ["That page isn't escalating any more."]


async def test_a_page_whose_alerts_resolved_is_cancelled_once_and_its_dms_say_why(answering: Answering) -> None:
    incident, page_id = await answering.paged()
    assert await answering.pager.cancel(page_id, reason="its alerts resolved")
    assert not await answering.pager.cancel(page_id, reason="its alerts resolved")
    assert (await answering.pager.get(page_id)).status == CANCELLED
    settled = answering.slack.made("update_message")
    assert len(settled) == 2 and all(c.text.endswith("This page was cancelled: its alerts resolved.") for c in settled)
    notes = await timeline_texts(answering.uow, incident.id, TimelineKind.PAGE)
    assert notes.count("Page cancelled: its alerts resolved") == 1


async def test_acknowledge_all_takes_every_page_of_the_digest_still_escalating(answering: Answering) -> None:
    pages = [
        await answering.pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
        for _ in range(STORM_THRESHOLD + 2)
    ]
    await fire_page_steps(answering.uow, answering.pager, now=NOW)
    async with answering.uow(read_only=True) as work:
        opened = await work.pages.open_digest("U0BOB", since=NOW - timedelta(minutes=1))
        digest = await work.pages.digest(opened.id) if opened else None
    assert digest is not None and [e.page_id for e in digest.entries] == pages[STORM_THRESHOLD:]
    await answering.pager.acknowledge(pages[-1], actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    answering.slack.calls.clear()
    await answering.pager.acknowledge_all(digest.id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    statuses = [(await answering.pager.get(p)).status for p in pages]
    assert statuses == [*[TRIGGERED] * STORM_THRESHOLD, ACKNOWLEDGED, ACKNOWLEDGED]  # the digest's pages only
    (told,) = answering.slack.made("reply")
    assert told.text.startswith(":white_check_mark: Acknowledged 1 of the pages")


async def test_an_acknowledgement_stands_when_slack_refuses_the_invite(answering: Answering) -> None:
    _, page_id = await answering.paged()
    answering.slack.refuse("invite", SlackRefused("cant_invite"))
    assert await answering.pager.acknowledge(page_id, actor="U0BOB", reply_to=ReplyTarget("U0BOB"))
    assert (await answering.pager.get(page_id)).status == ACKNOWLEDGED
    assert [c.where for c in answering.slack.made("post")] == ["C0INC1"]  # the channel still hears of it
