"""People first: work a person is waiting for never queues behind bulk work, and work waiting for Slack's
pace holds no worker. A backlog of posts queued to one channel (what a storm of alert notices and
announcements is, at Slack's pace of about one a second per channel) neither delays a person's command
nor the rest of the bulk work; and a storm of declares paced by conversations.create's rate tier leaves
a person's command answered before the storm's channels are all made.

Ordering, not stopwatches: each test asserts that the person was answered while the slow work was still
far from done, with generous deadlines for a loaded machine."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from bot.runtime.background import BULK, PEOPLE
from tests.conftest import StartTocsin, eventually
from tests.slack_double import SlackDouble

TRANSPORTS = ["http", "socket"]
BACKLOG = 200  # posts queued to one channel
PACE = 0.1  # seconds between posts to one channel, Tocsin's and the double's: the backlog takes 20 s
STORM = 40  # declares at once: twice conversations.create's burst of 20
TIER_MINUTE = 12.0  # the double's rate-tier minute (and Tocsin's): the storm's last 20 channels take ~12 s


def answered(double: SlackDouble, user: str) -> bool:
    return any(r["user_id"] == user and r.get("text") for r in double.responses)


def backlog_posts(double: SlackDouble) -> int:
    return sum(m["text"].startswith("Backlog ") for m in double.messages_in("#incidents"))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_backlog_of_posts_to_one_channel_does_not_delay_a_persons_command(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    double.post_interval_per_channel = PACE / 2  # Slack's per-channel pace, enforced (429 if broken)
    tocsin = await start_tocsin(database_url, transport=transport, post_interval=PACE)
    general = double.channel_named("general").id
    # Bulk work that posts to the broadcast channel, as alert notices and announcements do in a storm.
    for n in range(BACKLOG):
        tocsin.deps.background.submit({}, partial(tocsin.deps.slack.post, "#incidents", f"Backlog {n}"))
    await eventually(lambda: backlog_posts(double) >= 1, within=30, what="the backlog's first post")

    await double.slash_command("U0BOB", general, "list", via=transport)
    await eventually(lambda: answered(double, "U0BOB"), within=60, what="bob's /incident list answered")
    posted_when_answered = backlog_posts(double)

    # Bulk work of another kind is not stuck behind the paced posts either: they hold no worker.
    home = double.event_envelope({"type": "app_home_opened", "user": "U0CAROL", "channel": "D0CAROL", "tab": "home"})
    await double.deliver_event(home, via=transport)
    await eventually(lambda: double.calls_to("views.publish"), within=60, what="carol's App Home published")
    posted_when_published = backlog_posts(double)

    assert posted_when_answered < BACKLOG / 2, f"answered only after {posted_when_answered} of {BACKLOG} posts"
    assert posted_when_published < BACKLOG, "the App Home waited for the whole backlog"
    await eventually(lambda: backlog_posts(double) == BACKLOG, within=120, what="the whole backlog posted")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_persons_command_is_answered_before_a_declare_storms_channels_are_all_made(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    # Slack's rate tiers on a shorter minute, which Tocsin paces by too (start_tocsin passes it on).
    double.enforce_tiers, double.tier_minute = True, TIER_MINUTE
    for n in range(STORM):
        double.add_user(f"U0STORM{n:02d}", f"storm{n}")
    await start_tocsin(sqlite_url, transport=transport)
    general = double.channel_named("general").id
    # One distinct word per title: similar titles declared within the hour are offered "Join INC-n instead"
    # (several people declaring one outage), which is not this test's storm of separate incidents.
    storm = [
        double.slash_command(f"U0STORM{n:02d}", general, f"declare sev2 Storm{n:02d}", via=transport)
        for n in range(STORM)
    ]
    await asyncio.gather(*storm)
    await double.slash_command("U0BOB", general, "list", via=transport)
    await eventually(lambda: answered(double, "U0BOB"), within=60, what="bob's /incident list answered")
    made_when_answered = len(double.calls_to("conversations.create"))

    assert made_when_answered < STORM, "bob was answered only once every channel was made"
    # The storm's channels follow Slack's pace: every one made, none given up after too many 429s.
    await eventually(
        lambda: len(double.calls_to("conversations.create")) == STORM, within=180, what="every storm channel made"
    )
    made = sorted(c.ended for c in double.calls_to("conversations.create"))
    assert made[-1] - made[0] >= TIER_MINUTE * (STORM - 20) / 20 * 0.9, "faster than the tier allows"


async def test_lanes_keep_people_apart_from_bulk_work(start_tocsin: StartTocsin, sqlite_url: str) -> None:
    """Every bulk worker busy (working, not waiting for Slack) leaves the people lane free."""
    tocsin = await start_tocsin(sqlite_url)
    release = asyncio.Event()
    for _ in range(50):
        tocsin.deps.background.submit({}, release.wait, lane=BULK)
    ran = asyncio.Event()

    async def person() -> None:
        ran.set()

    tocsin.deps.background.submit({}, person, lane=PEOPLE)
    await asyncio.wait_for(ran.wait(), 30)
    release.set()
    assert await tocsin.deps.background.wait_idle(30)
