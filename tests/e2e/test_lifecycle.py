"""The process at 3 a.m.: a stop at any point of a timer tick sends each step once and the next on time;
health tells the truth; the log says what happened and nothing else."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from bot.domain.policy import Policy
from tests.builders import PAGING_POLICY, declare
from tests.conftest import FakeClock, StartTocsin, eventually, settle, timers_of
from tests.e2e.test_timers import pages_to, tick
from tests.slack_double import SlackDouble

STOP_POINTS = ["idle", "after-claim", "mid-send", "before-record"]


@pytest.mark.parametrize("point", STOP_POINTS)
async def test_a_stop_at_any_point_of_a_tick_pages_each_step_once_and_the_next_on_time(
    people: SlackDouble,
    start_tocsin: StartTocsin,
    sqlite_url: str,
    clock: FakeClock,
    point: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    double = people
    policy = Policy.model_validate(PAGING_POLICY)
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=policy)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    assert len(pages_to(double, "U0BOB")) == 1  # step 1, the primary
    clock.advance(minutes=5)  # step 2 (the secondary) is due now
    grace = 5.0
    reached = asyncio.Event()
    if point == "mid-send":
        double.latency = 0.5  # the DM is in flight when the stop comes

        async def dm_in_flight() -> None:
            await eventually(lambda: any(c.args.get("channel") == "U0CAROL" and not c.ended for c in double.calls))
            reached.set()

        watcher = asyncio.create_task(dm_in_flight())
    elif point == "after-claim":  # claimed, then stuck before sending: the stop's grace runs out
        grace = 0.3

        async def stuck(*_: Any, **__: Any) -> Any:
            reached.set()
            await asyncio.Event().wait()

        monkeypatch.setattr(tocsin.deps.pager, "send_step", stuck)
    elif point == "before-record":
        timers = timers_of(tocsin)
        record = timers._record

        async def slow_record(*args: Any, **kwargs: Any) -> None:
            reached.set()
            await asyncio.sleep(0.5)
            await record(*args, **kwargs)

        monkeypatch.setattr(timers, "_record", slow_record)
    timers_of(tocsin).start(0.05)  # the real clock from here on
    if point == "idle":
        await timers_of(tocsin).idle()
        await asyncio.sleep(0.2)
    else:
        await asyncio.wait_for(reached.wait(), 5)
    await tocsin.stop(drain_seconds=grace)
    double.latency = 0.0
    if point == "mid-send":
        await watcher

    restarted = await start_tocsin(sqlite_url, clock=clock, policy=policy)
    await tick(restarted)  # a step given back fires at once, not after its lease
    assert len(pages_to(double, "U0CAROL")) == 1, point
    clock.advance(minutes=9)
    await tick(restarted)
    assert pages_to(double, "U0DAVE") == []  # step 3 is due ten minutes after step 2, not before…
    clock.advance(minutes=1)
    await tick(restarted)
    assert len(pages_to(double, "U0DAVE")) == 1  # …and then at once
    assert len(pages_to(double, "U0BOB")) == 1 and len(pages_to(double, "U0CAROL")) == 1


async def http_get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.json()


async def test_readiness_names_a_lost_socket_mode_connection_as_detail(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport="socket")
    assert await http_get(tocsin.port, "/readyz") == (200, {"database": "ok", "slack": "ok", "socket_mode": "ok"})
    assert (await http_get(tocsin.port, "/healthz"))[0] == 200
    double.fail_next("apps.connections.open", "service_unavailable", times=1000)  # no reconnecting for now
    for ws in list(double._sockets):
        await ws.close()
    await eventually(lambda: not double._sockets)
    status, report = await http_get(tocsin.port, "/readyz")
    assert status == 200 and report["socket_mode"] == "not connected"  # still takes alerts: Slack is detail
    assert (await http_get(tocsin.port, "/livez"))[0] == 200
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{tocsin.port}/metrics") as got:
        assert "tocsin_slack_up 0.0" in await got.text()


async def test_liveness_fails_when_the_timer_stops_ticking(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    timers_of(tocsin).start(0.05)
    await asyncio.sleep(0.2)
    assert await http_get(tocsin.port, "/livez") == (200, {"event_loop": "ok", "timer": "ok"})
    monkeypatch.setattr("bot.entrypoints.timers.STALLED_AFTER", 0.3)
    scheduler = timers_of(tocsin)._scheduler
    assert scheduler is not None
    scheduler.pause()  # the clock stops: no tick starts any more
    await asyncio.sleep(0.5)
    assert await http_get(tocsin.port, "/livez") == (503, {"event_loop": "ok", "timer": "stalled"})


async def test_an_idle_bot_logs_nothing_and_an_incident_logs_one_line_per_event(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.runtime import logs

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure("INFO")  # the library loggers quietened as in production
    root.addHandler(caplog.handler)
    try:
        await incident_logged(double, start_tocsin, sqlite_url, caplog)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


async def incident_logged(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    caplog.set_level(logging.INFO)
    caplog.clear()
    timers_of(tocsin).start(0.02)
    await asyncio.sleep(1.0)  # 50 ticks with nothing due
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    general = double.channel_named("general").id
    await double.slash_command("U0ALICE", general, "declare sev2 Checkout errors")
    await settle(tocsin)
    channel = double.channel_named("inc-1-checkout-errors")
    for text in ("ic @bob", "sev 1 spreading", "update Failing over", "note replica lag 3s"):
        await double.slash_command("U0ALICE" if text.startswith("ic") else "U0BOB", channel.id, text)
        await settle(tocsin)
    await double.slash_command("U0BOB", channel.id, "status monitoring")
    await settle(tocsin)
    await double.slash_command("U0BOB", channel.id, "resolve failed over")
    await settle(tocsin)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot") and r.levelno == logging.INFO]
    expected = [
        "INC-1 declared at SEV2 by U0ALICE",
        "INC-1: U0BOB is Incident Commander (by U0ALICE)",
        "INC-1: severity SEV2 → SEV1 (by U0BOB)",
        "INC-1: status update posted (by U0BOB)",
        "INC-1: note added (by U0BOB)",
        "INC-1: status Investigating → Monitoring (by U0BOB)",
        "INC-1: resolved (by U0BOB)",
    ]
    for line in expected:
        assert lines.count(line) == 1, (line, lines)
    assert any(line.startswith("INC-1: postmortem draft version 1 published") for line in lines)
    events = [r for r in caplog.records if r.getMessage() in expected]
    assert all(getattr(r, "incident", None) == "INC-1" and getattr(r, "team", None) == "T0TOCSIN" for r in events)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(("apscheduler", "bot"))]
