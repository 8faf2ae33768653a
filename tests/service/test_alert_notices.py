"""Alert notices to a channel: a post each until a storm, then one digest posted once and edited as
notices join it; a quiet channel starts afresh; Slack refusing a notice never stops the alert's page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.errors import SlackRefused, SlackUnreachable
from bot.domain.notice_digests import STORM_THRESHOLD, STORM_WINDOW, AlertNotice
from bot.domain.policy import Policy
from bot.slack import messages
from bot.usecases import alert_notices
from bot.usecases.alert_notices import AlertNotices
from tests.service.fakes import FakeClock, ScriptedSlack

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def notice(n: int) -> AlertNotice:
    return AlertNotice(f"Disk full on db-{n}", "SEV3", "db", "db-oncall")


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> tuple[AlertNotices, ScriptedSlack, FakeClock]:
    monkeypatch.setattr(alert_notices, "DIGEST_EDIT_INTERVAL", 0.0)  # digest edits at once: no waiting on the clock
    slack, clock = ScriptedSlack(), FakeClock(NOW)
    return AlertNotices(slack, messages, Policy(), clock), slack, clock


async def test_a_storm_becomes_one_digest_edited_as_notices_join(
    notices: tuple[AlertNotices, ScriptedSlack, FakeClock],
) -> None:
    sender, slack, clock = notices
    for n in range(STORM_THRESHOLD + 3):
        await sender.send("#alerts", notice(n))
        clock.advance(seconds=1)
    posts = slack.made("post")
    assert len(posts) == STORM_THRESHOLD and all(p.where == "#alerts" for p in posts)
    assert "Disk full on db-0" in posts[0].text
    (digest,) = slack.made("post_to_edit")
    assert "1 more alert group fired" in digest.text
    edits = slack.made("update_message")
    assert edits and edits[-1].where == "#alerts" and "3 more alert groups fired" in edits[-1].text
    await sender.send(None, notice(99))  # no channel to tell: nothing sent, nothing raised
    assert len(slack.calls) == len(posts) + 1 + len(edits)


async def test_after_a_quiet_spell_notices_are_posts_of_their_own_again(
    notices: tuple[AlertNotices, ScriptedSlack, FakeClock],
) -> None:
    sender, slack, clock = notices
    for n in range(STORM_THRESHOLD + 1):
        await sender.send("#alerts", notice(n))
    await sender.send("#other", notice(50))  # another channel's notices are its own
    clock.advance(seconds=STORM_WINDOW.total_seconds() + 1)
    await sender.send("#alerts", notice(100))
    assert [p.where for p in slack.made("post")] == ["#alerts"] * STORM_THRESHOLD + ["#other", "#alerts"]
    assert len(slack.made("post_to_edit")) == 1


async def test_notices_slack_refuses_are_dropped_quietly_and_a_refused_digest_is_opened_again(
    notices: tuple[AlertNotices, ScriptedSlack, FakeClock],
) -> None:
    sender, slack, _ = notices
    slack.refuse("post", SlackRefused("not_in_channel"))
    for n in range(STORM_THRESHOLD):
        await sender.send("#alerts", notice(n))  # each a warning, none raised
    slack.refuse("post_to_edit", SlackUnreachable("TimeoutError"))
    await sender.send("#alerts", notice(10))
    slack.allow("post_to_edit")
    await sender.send("#alerts", notice(11))
    first, second = slack.made("post_to_edit")
    assert "1 more alert group" in first.text and "1 more alert group" in second.text  # a new digest
    assert slack.made("update_message") == []
