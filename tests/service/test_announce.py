"""The fan-out after a change: where its notice goes (a private incident's news stays in its channel; a
severity raised reaches only the stakeholders who did not hear of it), posts Slack refuses for now kept
for later, the author told of Slack's pace, and the header and App Home brought up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused
from bot.domain.policy import Policy
from bot.domain.policy_levels import Severity
from bot.domain.slack_values import ReplyTarget
from bot.slack import messages
from bot.usecases.announce import Announcer
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.outbox import Outbox
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.visibility import Visibility
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, ScriptedSlack, an_incident, incident_in_channel, sqlite_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POLICY = Policy(
    severities=[
        Severity(name="SEV1", notify=["#exec", "#support"]),
        Severity(name="SEV2", notify=["#support"]),
        Severity(name="SEV3"),
    ],
    default_severity="SEV3",
)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    async with sqlite_database(tmp_path) as database:
        yield database


class Fanout:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack, self.clock = uow, ScriptedSlack(), FakeClock(NOW)
        slack, clock = self.slack, self.clock
        self.outbox = Outbox(uow=uow, slack=slack, messages=messages, clock=clock)
        self.announcer = Announcer(
            slack=slack,
            policy=POLICY,
            header=HeaderKeeper(uow=uow, slack=slack, messages=messages, policy=POLICY, clock=clock, min_interval=0),
            home=HomeKeeper(
                uow=uow, slack=slack, messages=messages, policy=POLICY, clock=clock, visibility=Visibility(slack)
            ),
            outbox=self.outbox,
        )


async def test_news_goes_to_the_channel_and_only_the_stakeholders_it_should(uow: Callable[..., UnitOfWork]) -> None:
    where = Fanout(uow).announcer.channels
    public = an_incident(channel_id="C0INC1", severity="SEV2")
    assert where(public) == ["C0INC1"]
    assert where(public, stakeholders=True) == ["C0INC1", "#incidents", "#support"]
    raised = an_incident(channel_id="C0INC1", severity="SEV1")
    assert where(raised, upgraded_from="SEV2") == ["C0INC1", "#incidents", "#exec"]  # #support heard already
    assert where(an_incident(channel_id="C0INC1", severity="SEV3"), upgraded_from="SEV1") == ["C0INC1"]
    secret = an_incident(channel_id="C0SEC", severity="SEV1", private=True)
    assert where(secret, stakeholders=True) == where(secret, upgraded_from="SEV3") == ["C0SEC"]


async def test_a_notice_is_posted_then_the_header_and_home_are_refreshed(uow: Callable[..., UnitOfWork]) -> None:
    fanout = Fanout(uow)
    incident = await incident_in_channel(fanout.uow, now=NOW)
    await fanout.announcer.home.opened("T1", "U0BOB")
    fanout.slack.calls.clear()
    await fanout.announcer.tell(incident, ("Status: Monitoring", []), ["C0INC1", "#incidents"], author="U0ALICE")
    assert [c.method for c in fanout.slack.calls[:2]] == ["post", "post"]
    assert sorted(c.where for c in fanout.slack.made("post")) == ["#incidents", "C0INC1"]
    assert [c.extra["ts"] for c in fanout.slack.made("update_message")] == [incident.header_ts]
    assert [c.where for c in fanout.slack.made("publish_home")] == ["U0BOB"]


async def test_a_post_slack_refuses_for_now_is_kept_and_the_others_go_out(uow: Callable[..., UnitOfWork]) -> None:
    fanout = Fanout(uow)
    incident = await incident_in_channel(fanout.uow, now=NOW)
    fanout.slack.refuse("post", SlackRefused("ratelimited", retryable=True), where="#incidents")
    fanout.slack.refuse("post", SlackRefused("not_in_channel"), where="#support")
    await fanout.announcer.tell(incident, ("Resolved", []), ["C0INC1", "#incidents", "#support"], author="U0ALICE")
    assert len(fanout.slack.made("update_message")) == 1  # the failures did not stop the refresh
    fanout.slack.allow("post", where="#incidents")
    fanout.clock.advance(minutes=1)
    assert await fanout.outbox.send_due(token="t") == 1  # #incidents', kept; not #support's, refused for good
    assert [c.where for c in fanout.slack.made("post")][-1] == "#incidents"


async def test_the_author_hears_when_slack_pace_delays_their_post(uow: Callable[..., UnitOfWork]) -> None:
    fanout = Fanout(uow)
    incident = await incident_in_channel(fanout.uow, now=NOW)
    author = ReplyTarget("U0ALICE", "C0INC1")
    fanout.slack.waits["C0INC1"] = 2.0
    await fanout.announcer.tell(incident, ("Update", []), ["C0INC1"], actor_reply=author)
    assert fanout.slack.made("reply") == []  # a short wait is not worth a word
    fanout.slack.waits["C0INC1"] = 12.0
    await fanout.announcer.tell(incident, ("Update", []), ["C0INC1"], actor_reply=author)
    (told,) = fanout.slack.made("reply")
    assert told.where == "U0ALICE" and "about 12s" in told.text
