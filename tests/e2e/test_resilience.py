"""Nothing lost when the process dies or Slack misbehaves: a declare killed (SIGKILL) at any step is
finished after a restart with no second channel, header or announcement; posts survive 5xx answers
and rate limits; the header and topic always end up showing the latest state."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.incidents import Status, TimelineKind
from bot.domain.policy import Policy
from bot.slack.blocks.primitives import CONTROLS_BLOCK
from bot.slack.web_client import SERVER_ERROR_RETRIES
from bot.usecases.setup_run import SETUP_GRACE
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.conftest import FakeClock, StartTocsin, eventually, settle, stored_incident, stored_timeline, timers_of
from tests.e2e.test_process import clean_env
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TOCSIN = [sys.executable, "-m", "bot"]


def is_incident_channel(double: SlackDouble) -> Any:
    def where(args: dict[str, Any]) -> bool:
        channel = double.channels.get(str(args.get("channel")))
        return channel is not None and channel.name.startswith("inc-")

    return where


def headers_in(channel: Channel) -> list[dict[str, Any]]:
    return [
        m for m in channel.messages if any(str(b.get("block_id", "")).startswith(CONTROLS_BLOCK) for b in m["blocks"])
    ]


def announcements(double: SlackDouble) -> list[dict[str, Any]]:
    return [m for m in double.messages_in("#incidents") if "declared by" in m["text"]]


def announced_lines(double: SlackDouble) -> list[str]:
    """Each incident announced in #incidents: an announcement's text, or a storm digest's line for it."""
    lines: list[str] = []
    for message in double.messages_in("#incidents"):
        if "Incident storm" in message["text"]:  # a storm's digest: a line per incident it names
            lines += [b["text"]["text"] for b in message["blocks"] if str(b.get("block_id")).startswith("announce:")]
        elif "declared by" in message["text"]:
            lines.append(message["text"])
    return lines


async def start_process(double: SlackDouble, database_url: str, cwd: Path, **extra: str) -> asyncio.subprocess.Process:
    env = clean_env(
        **extra,
        PYTHONPATH=os.getcwd(),
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_SIGNING_SECRET=double.signing_secret,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT="0",
    )
    process = await asyncio.create_subprocess_exec(*TOCSIN, "run", env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "tocsin exited before it was up"
        if match := re.search(r"Tocsin is up on 127\.0\.0\.1:(\d+)", line):
            double.app_url = f"http://127.0.0.1:{match.group(1)}/slack/events"
            return process


KILL_POINTS = [
    ("conversations.create", "before", None),
    ("conversations.create", "after", None),
    ("conversations.invite", "after", None),
    ("conversations.setPurpose", "after", None),
    ("conversations.setTopic", "after", None),
    ("chat.postMessage", "after", "header"),
    ("chat.postMessage", "after", "announcement"),
    ("pins.add", "after", None),
]


@pytest.mark.parametrize(("method", "when", "which"), KILL_POINTS, ids=[f"{m}-{w}-{x}" for m, w, x in KILL_POINTS])
async def test_a_declare_killed_at_any_step_is_finished_after_a_restart_exactly_once(
    double: SlackDouble,
    start_tocsin: StartTocsin,
    tmp_path: Path,
    clock: FakeClock,
    method: str,
    when: str,
    which: str | None,
) -> None:
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    where = {"header": is_incident_channel(double), "announcement": lambda a: a.get("channel") == "#incidents"}
    double.hang_next(method, when=when, where=where.get(which or ""))
    process = await start_process(double, url, tmp_path)
    try:
        await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Checkout errors")
        await eventually(lambda: double.hung_calls, within=6, what=f"the declare reaching {method}")
    finally:
        process.kill()  # SIGKILL: nothing after this point of the declare runs
        await process.wait()

    clock.now = clock.now.__class__.now(clock.now.tzinfo) + SETUP_GRACE + timedelta(seconds=1)
    restarted = await start_tocsin(url, clock=clock)
    await timers_of(restarted).tick()
    await settle(restarted)

    channels = [c for c in double.channels.values() if c.name.startswith("inc-")]
    assert [c.name for c in channels] == ["inc-1-checkout-errors"]  # no second channel
    (channel,) = channels
    (header,) = headers_in(channel)
    assert header["ts"] in channel.pins and "U0ALICE" in channel.members
    assert channel.topic == "SEV2 · Investigating · IC <@U0ALICE>" and channel.purpose.startswith("INC-1: ")
    assert len(announcements(double)) == 1
    incident = await stored_incident(restarted, 1)
    assert incident.channel_id == channel.id and incident.header_ts == header["ts"]
    async with UnitOfWork(session_factory(restarted.engine)) as uow:
        assert await uow.setups.claim(now=clock.now + timedelta(days=1), lease=timedelta(1), token="t", limit=9) == []
    told = double.replies_to("U0ALICE")
    assert any("is set up in" in t and "after an interruption" in t for t in told)
    await timers_of(restarted).tick()  # a later sweep finds nothing left to do
    await settle(restarted)
    assert len(headers_in(channel)) == 1 and len(announcements(double)) == 1


async def test_a_header_rate_limited_during_declare_ends_up_showing_the_latest_state(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    double.fail_next("conversations.setTopic", retry_after=2)  # the declare's topic waits out a 429
    general = double.channel_named("general").id
    await double.slash_command("U0ALICE", general, "declare sev2 Checkout errors")
    await asyncio.sleep(0.3)  # the header is out; the topic is still waiting
    await double.slash_command("U0ALICE", general, "ic INC-1 @bob")
    for _ in range(200):  # bob is IC before he moves the status (he may, as IC)
        if (await stored_incident(tocsin, 1)).commander == "U0BOB":
            break
        await asyncio.sleep(0.02)
    await double.slash_command("U0BOB", general, "status INC-1 identified")
    await settle(tocsin)
    channel = double.channel_named("inc-1-checkout-errors")
    assert channel.topic == "SEV2 · Identified · IC <@U0BOB>"
    fields = " ".join(f["text"] for f in headers_in(channel)[0]["blocks"][1]["fields"])
    assert "<@U0BOB>" in fields and "Identified" in fields
    assert (await stored_incident(tocsin, 1)).status is Status.IDENTIFIED


async def test_twenty_incidents_through_5xx_and_rate_limits_lose_and_repeat_nothing(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    # Slack's limits, sped up: a "minute" of the method tiers lasts 3 s and a channel takes a post every
    # 50 ms; one call in ten answers HTTP 500.
    double.enforce_tiers, double.tier_minute = True, 3.0
    double.post_interval_per_channel = 0.05
    tocsin = await start_tocsin(sqlite_url, clock=clock, post_interval=0.06)
    double.server_error_rate = 0.1
    general = double.channel_named("general").id
    count = 20

    async def command(user: str, text: str) -> None:
        ack = await double.slash_command(user, general, text)
        assert ack.status == 200

    await asyncio.gather(*(command("U0ALICE", f"declare sev2 Outage number {n}") for n in range(1, count + 1)))
    await settle(tocsin)
    await asyncio.gather(*(command("U0ALICE", f"ic INC-{n} @bob") for n in range(1, count + 1)))
    await settle(tocsin)
    for step in range(3):
        await asyncio.gather(*(command("U0BOB", f"update INC-{n} step [u{step}-{n}]") for n in range(1, count + 1)))
        await settle(tocsin)
    for note in ("a", "b"):
        await asyncio.gather(*(command("U0BOB", f"note INC-{n} note {note} of {n}") for n in range(1, count + 1)))
    await asyncio.gather(*(command("U0BOB", f"resolve INC-{n} fixed [r-{n}]") for n in range(1, count + 1)))
    await settle(tocsin)
    for _ in range(12):  # whatever Slack refused for now goes out from the outbox and the set-up sweep
        clock.advance(minutes=5)
        await timers_of(tocsin).tick()
        await settle(tocsin)

    broadcast = [m["text"] for m in double.messages_in("#incidents")]
    errors = sum(1 for c in double.calls if c.error == "server_error")
    limited = sum(1 for c in double.calls if c.error == "ratelimited")
    print(f"\nfault injection: {len(double.calls)} Web API calls, {errors} answered 500, {limited} answered 429")
    assert errors > 20 and limited > 0, "the faults were not exercised"
    assert any("Incident storm" in t for t in broadcast), "the declares did not gather into a digest"
    for n in range(1, count + 1):
        channel_id = (await stored_incident(tocsin, n)).channel_id
        assert channel_id is not None
        channel = double.channels[channel_id]
        texts = [m["text"] for m in channel.messages]
        for step in range(3):
            update = f"[u{step}-{n}]"
            assert sum(update in t for t in texts) == 1, (n, update, texts)
            assert sum(update in t for t in broadcast) == 1, (n, update)
        announced = [t for t in announced_lines(double) if f"*INC-{n}: Outage number " in t and "declared by" in t]
        assert len(announced) == 1, (n, announced)
        assert sum("is now *Incident Commander*" in t for t in texts) == 1, n
        assert sum(f"[r-{n}]" in t for t in texts) == 1 and sum(f"[r-{n}]" in t for t in broadcast) == 1, n
        assert len(headers_in(channel)) == 1 and headers_in(channel)[0]["ts"] in channel.pins
        fields = " ".join(f["text"] for f in headers_in(channel)[0]["blocks"][1]["fields"])
        assert "Resolved" in fields and "<@U0BOB>" in fields, (n, fields)
        assert channel.topic == "SEV2 · Resolved · IC <@U0BOB>", (n, channel.topic)
        notes = [e for e in await stored_timeline(tocsin, n) if e.kind is TimelineKind.NOTE]
        assert sorted(e.text for e in notes) == [f"note a of {n}", f"note b of {n}"]
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.outbox.waiting() == 0


async def test_two_rate_limits_do_not_use_up_the_retries_for_a_server_error(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.slack.web_client.RETRY_BACKOFF_FACTOR", 0.01)
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate({"broadcast_channel": None}))
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Checkout errors")
    await settle(tocsin)
    channel = double.channel_named("inc-1-checkout-errors")
    double.fail_next("chat.postMessage", retry_after=1, times=2)
    double.fail_next("chat.postMessage", "server_error")  # slack-sdk alone would give up here
    await double.slash_command("U0ALICE", channel.id, "update Failing over [u1]")
    await settle(tocsin)
    assert sum("[u1]" in m["text"] for m in channel.messages) == 1


async def test_a_post_slack_keeps_refusing_waits_in_the_outbox_then_goes_out_once(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.slack.web_client.RETRY_BACKOFF_FACTOR", 0.01)
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate({"broadcast_channel": None}))
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Checkout errors")
    await settle(tocsin)
    channel = double.channel_named("inc-1-checkout-errors")
    double.fail_next("chat.postMessage", "server_error", times=1 + SERVER_ERROR_RETRIES)  # every try of the first round
    await double.slash_command("U0ALICE", channel.id, "update Failing over [u1]")
    await settle(tocsin)
    assert not any("[u1]" in m["text"] for m in channel.messages)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.outbox.waiting() == 1  # kept, not lost
    clock.advance(seconds=20)
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert sum("[u1]" in m["text"] for m in channel.messages) == 1
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.outbox.waiting() == 0


async def test_a_post_that_finally_cannot_go_out_is_told_to_its_author(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.slack.web_client.RETRY_BACKOFF_FACTOR", 0.01)
    monkeypatch.setattr("bot.usecases.outbox.MAX_ATTEMPTS", 2)
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate({"broadcast_channel": None}))
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Checkout errors")
    await settle(tocsin)
    channel = double.channel_named("inc-1-checkout-errors")
    double.fail_next("chat.postMessage", "server_error", times=3 * (1 + SERVER_ERROR_RETRIES))
    await double.slash_command("U0ALICE", channel.id, "update Failing over [u1]")
    await settle(tocsin)
    for _ in range(2):
        clock.advance(minutes=5)
        await timers_of(tocsin).tick()
        await settle(tocsin)
    assert not any("[u1]" in m["text"] for m in channel.messages)
    (dm,) = [m for m in double.dm_messages("U0ALICE") if "could not post this" in m["text"]]
    assert "[u1]" in dm["text"] and "internal_error" in dm["text"]
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.outbox.waiting() == 0


async def test_a_burst_of_pages_to_one_person_arrives_at_slacks_pace_without_a_429(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double = people
    double.post_interval_per_channel = 0.05  # a direct message is a channel too: Slack paces it alike
    tocsin = await start_tocsin(
        sqlite_url, post_interval=0.06, policy=Policy.model_validate({"broadcast_channel": None})
    )
    general = double.channel_named("general").id
    for n in range(6):
        await double.slash_command("U0ALICE", general, f"declare sev3 Outage {n}")
    await settle(tocsin)
    channels = [c for c in double.channels.values() if c.name.startswith("inc-")]
    await asyncio.gather(*(double.slash_command("U0ALICE", c.id, "page @erin") for c in channels))
    await settle(tocsin)
    singles = [m for m in double.dm_messages("U0ERIN") if "being paged" in m["text"]]
    digests = [m for m in double.dm_messages("U0ERIN") if "pages at once" in m["text"]]
    in_digests = [b for d in digests for b in d["blocks"] if str(b.get("block_id", "")).startswith("page:")]
    assert len(singles) + len(in_digests) == len(channels) == 6  # each page shown once, alone or in a digest
    refused = [c for c in double.calls if c.method == "chat.postMessage" and c.error == "ratelimited"]
    assert refused == []
