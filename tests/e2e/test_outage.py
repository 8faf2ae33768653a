"""A database that goes away (PostgreSQL behind a TCP proxy the test cuts): work Slack was told we
accepted is carried out once the database is back, and a request that outlasts the retry window is
answered with why, never silently lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.domain.incidents import TimelineKind
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, eventually, settle, stored_timeline, timers_of
from tests.faults.tcp_proxy import TcpProxy
from tests.slack_double import SlackDouble


async def test_commands_and_events_accepted_during_an_outage_are_carried_out_when_it_ends(
    double: SlackDouble, start_tocsin: StartTocsin, proxied: tuple[str, TcpProxy]
) -> None:
    url, proxy = proxied
    tocsin = await start_tocsin(url)
    channel = await declare(double, tocsin)
    ts = double.user_posts("U0BOB", channel.id, "connection pool at 100%")
    await proxy.cut()
    for n in range(3):
        ack = await double.slash_command("U0ALICE", channel.id, f"note checked replica {n}")
        assert ack.status == 200  # acknowledged at once, database or not
    await double.deliver_event(double.pin_event("U0BOB", channel.id, ts))
    await asyncio.sleep(1.5)
    await proxy.restore()
    await settle(tocsin)
    timeline = await stored_timeline(tocsin, 1)
    assert sorted(e.text for e in timeline if e.kind is TimelineKind.NOTE) == [f"checked replica {n}" for n in range(3)]
    assert [e.text for e in timeline if e.kind is TimelineKind.MESSAGE] == ["connection pool at 100%"]
    assert not any("Something went wrong" in r or "could not reach" in r for r in double.replies_to("U0ALICE"))


async def test_a_request_that_outlasts_the_outage_window_is_answered_with_why(
    double: SlackDouble, start_tocsin: StartTocsin, proxied: tuple[str, TcpProxy]
) -> None:
    url, proxy = proxied
    tocsin = await start_tocsin(url)
    channel = await declare(double, tocsin)
    tocsin.deps.background.retry_window = 1.0
    await proxy.cut()
    await double.slash_command("U0ALICE", channel.id, "note lost in the outage")
    await settle(tocsin)
    await proxy.restore()
    told = double.replies_to("U0ALICE")
    assert any("could not reach the database for a minute" in r and "please try again" in r for r in told)
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.NOTE]


async def test_the_timer_rides_out_an_outage_and_fires_what_came_due_once(
    double: SlackDouble,
    start_tocsin: StartTocsin,
    proxied: tuple[str, TcpProxy],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, proxy = proxied
    tocsin = await start_tocsin(url, clock=clock)
    channel = await declare(double, tocsin)
    timers_of(tocsin).start(0.05)
    caplog.set_level(logging.WARNING)
    await proxy.cut()
    clock.advance(minutes=16)  # the first update was due after 15 minutes: the nag is due meanwhile
    await asyncio.sleep(2.0)
    failures = [r for r in caplog.records if r.name == "bot.entrypoints.timers"]
    assert 1 <= len(failures) <= 4, [r.getMessage() for r in failures]  # one line an attempt, backing off
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    await proxy.restore()
    await eventually(lambda: any(":alarm_clock:" in m["text"] for m in channel.messages), within=15, every=0.05)
    await asyncio.sleep(0.5)
    assert sum(":alarm_clock:" in m["text"] for m in channel.messages) == 1
