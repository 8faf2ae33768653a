"""Announcements in a storm of declares: the first few are posts of their own, the rest gather into one
digest posted once and edited as incidents join; an incident counts as announced only once a message
showing it went out, and one no message could show is taken out of the digest (its set-up announces it
on its own later) so it is never announced twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain.announcement_digests import ANNOUNCE_STORM, DIGEST_NAMES
from bot.domain.errors import SlackRefused, SlackUnreachable
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.slack import messages
from bot.usecases import announcement_storms
from bot.usecases.announcement_storms import StormAnnouncements
from tests.service.fakes import FakeClock, ScriptedSlack
from tests.values import an_incident

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
THRESHOLD = ANNOUNCE_STORM.threshold


def incident(n: int) -> Incident:
    return an_incident(id=n, number=n, title=f"Checkout down {n}", channel_id=f"C{n:04d}")


@pytest.fixture
def storms(monkeypatch: pytest.MonkeyPatch) -> tuple[StormAnnouncements, ScriptedSlack, FakeClock]:
    monkeypatch.setattr(announcement_storms, "DIGEST_EDIT_INTERVAL", 0.0)  # edits at once: no waiting
    slack, clock = ScriptedSlack(), FakeClock(NOW)
    return StormAnnouncements(slack, messages, Policy(), clock), slack, clock


async def announce(storms: StormAnnouncements, n: int) -> None:
    await storms.announce("#incidents", incident(n), messages.announcement(incident(n)))


async def test_a_storm_of_declares_is_a_few_announcements_and_one_digest(
    storms: tuple[StormAnnouncements, ScriptedSlack, FakeClock],
) -> None:
    sender, slack, clock = storms
    for n in range(1, THRESHOLD + 1):
        await announce(sender, n)
        clock.advance(seconds=1)
    await asyncio.gather(*(announce(sender, n) for n in range(THRESHOLD + 1, THRESHOLD + DIGEST_NAMES + 6)))
    posts = slack.made("post")
    assert [p.where for p in posts] == ["#incidents"] * THRESHOLD and "INC-1: Checkout down 1" in posts[0].text
    (digest,) = slack.made("post_to_edit")
    final = slack.made("update_message")[-1]
    assert f"{DIGEST_NAMES + 5} more incidents declared" in final.text
    named = [b["block_id"] for b in final.extra["blocks"] or [] if str(b.get("block_id", "")).startswith("announce:")]
    assert named == [f"announce:{n}" for n in range(THRESHOLD + 1, THRESHOLD + 1 + DIGEST_NAMES)]
    assert "… and 5 more" in str(final.extra["blocks"])
    assert "1 more incident declared" in digest.text


async def test_an_incident_no_edit_could_show_is_withdrawn_and_raised_so_it_is_announced_once(
    storms: tuple[StormAnnouncements, ScriptedSlack, FakeClock],
) -> None:
    sender, slack, _ = storms
    for n in range(1, THRESHOLD + 2):  # the last one opens the digest
        await announce(sender, n)
    slack.refuse("update_message", SlackUnreachable("TimeoutError"))
    with pytest.raises(SlackRefused):
        await announce(sender, 50)
    slack.allow("update_message")
    await announce(sender, 51)
    final = slack.made("update_message")[-1]
    assert "INC-51" in str(final.extra["blocks"]) and "INC-50" not in str(
        final.extra["blocks"]
    )  # announced on its own later
    assert "2 more incidents declared" in final.text


async def test_a_digest_that_could_not_be_posted_is_opened_again_by_the_next_declare(
    storms: tuple[StormAnnouncements, ScriptedSlack, FakeClock],
) -> None:
    sender, slack, _ = storms
    for n in range(1, THRESHOLD + 1):
        await announce(sender, n)
    slack.refuse("post_to_edit", SlackRefused("ratelimited", retryable=True))
    with pytest.raises(SlackRefused):
        await announce(sender, 20)
    slack.allow("post_to_edit")
    await announce(sender, 21)
    first, second = slack.made("post_to_edit")
    assert (
        "INC-20" in str(first.extra["blocks"])
        and "INC-20" not in str(second.extra["blocks"])
        and "INC-21" in str(second.extra["blocks"])
    )
