"""Slack's views of incidents kept current: the header edited and the topic set only when it changes;
App Home published on opening and to recent viewers, each seeing only the private incidents they may."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused
from bot.domain.policy import Policy
from bot.slack import messages
from bot.usecases.live_views import HOME_VIEWERS_WITHIN, HeaderKeeper, HomeKeeper
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.visibility import Visibility
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, ScriptedSlack, incident_in_channel, shown, sqlite_database, stored_incident

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    async with sqlite_database(tmp_path) as database:
        yield database


def header(uow: UnitOfWorkFactory, slack: ScriptedSlack) -> HeaderKeeper:
    return HeaderKeeper(uow=uow, slack=slack, messages=messages, policy=Policy(), clock=FakeClock(NOW), min_interval=0)


def home(uow: UnitOfWorkFactory, slack: ScriptedSlack, clock: FakeClock) -> HomeKeeper:
    visibility = Visibility(slack)
    return HomeKeeper(uow=uow, slack=slack, messages=messages, policy=Policy(), clock=clock, visibility=visibility)


async def test_the_header_is_edited_each_time_and_the_topic_set_only_when_it_changes(
    uow: Callable[..., UnitOfWork],
) -> None:
    slack = ScriptedSlack()
    incident = await incident_in_channel(uow, now=NOW)
    keeper = header(uow, slack)
    await keeper.refresh(incident.id)
    await keeper.refresh(incident.id)
    assert [(c.where, c.extra["ts"]) for c in slack.made("update_message")] == [("C0INC1", incident.header_ts)] * 2
    assert "Checkout errors" in slack.made("update_message")[0].text
    (topic,) = slack.made("set_topic")
    assert (await stored_incident(uow, incident.id)).channel_topic == topic.text
    async with uow() as work:
        await work.incidents.update(incident.id, severity="SEV1")
        await work.commit()
    await keeper.refresh(incident.id)
    assert len(slack.made("set_topic")) == 2 and "SEV1" in slack.made("set_topic")[-1].text


async def test_an_incident_without_a_channel_has_nothing_to_refresh(uow: Callable[..., UnitOfWork]) -> None:
    slack = ScriptedSlack()
    incident = await incident_in_channel(uow, now=NOW, channel_id=None, header_ts=None)
    await header(uow, slack).refresh(incident.id)
    assert slack.calls == []


async def test_a_topic_slack_refused_is_set_again_next_time_and_the_header_still_edited(
    uow: Callable[..., UnitOfWork],
) -> None:
    slack = ScriptedSlack()
    incident = await incident_in_channel(uow, now=NOW)
    keeper = header(uow, slack)
    slack.refuse("set_topic", SlackRefused("ratelimited", retryable=True))
    await keeper.refresh(incident.id)
    assert len(slack.made("update_message")) == 1
    slack.allow("set_topic")
    await keeper.refresh(incident.id)
    assert len(slack.made("set_topic")) == 2


async def test_home_is_published_to_recent_viewers_each_seeing_the_private_incidents_they_may(
    uow: Callable[..., UnitOfWork],
) -> None:
    slack, clock = ScriptedSlack(), FakeClock(NOW - HOME_VIEWERS_WITHIN - timedelta(days=1))
    keeper = home(uow, slack, clock)
    await keeper.opened("T1", "U0OLD")  # looked once, long ago
    clock.now = NOW
    await incident_in_channel(uow, now=NOW, title="Public outage", channel_id="C0PUB")
    await incident_in_channel(uow, now=NOW, title="Leaked keys", channel_id="C0SEC", private=True, declared_by="U0SEC")
    slack.members["C0SEC"] = {"U0SEC"}
    await keeper.opened("T1", "U0SEC")
    await keeper.opened("T1", "U0BOB")
    slack.calls.clear()
    await keeper.refresh("T1")
    published = {c.where: shown(c) for c in slack.made("publish_home")}
    assert sorted(published) == ["U0BOB", "U0SEC"]  # not the viewer of long ago
    assert "Leaked keys" in published["U0SEC"] and "Public outage" in published["U0SEC"]
    assert "Leaked keys" not in published["U0BOB"] and "Public outage" in published["U0BOB"]


async def test_one_home_slack_refuses_does_not_keep_the_others_from_theirs(uow: Callable[..., UnitOfWork]) -> None:
    slack = ScriptedSlack()
    keeper = home(uow, slack, FakeClock(NOW))
    await keeper.opened("T1", "U0BOB")
    await keeper.opened("T1", "U0CAROL")
    slack.refuse("publish_home", SlackRefused("not_enabled"), where="U0BOB")
    slack.calls.clear()
    await keeper.refresh("T1")
    assert sorted(c.where for c in slack.made("publish_home")) == ["U0BOB", "U0CAROL"]
