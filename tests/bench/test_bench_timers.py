"""Timer benchmark (run on demand: `make bench`): 10,000 open incidents with update reminders and 1,000
active pages in the database; the tick runs every 0.5 s for 60 s of real time while reminders and page
steps come due continuously. Measures CPU per tick (target < 50 ms) and lateness (target p99 < 1 s).
The Slack double runs in its own process, so the figures are Tocsin's alone."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.escalation import TRIGGERED, plan_for_user
from bot.domain.policy import Policy
from bot.entrypoints.timers import Timers
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.slack.gateway import SlackGateway
from bot.slack.web_client import build_web_client
from bot.usecases.paging import Pager
from bot.usecases.reminders import Reminders
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import IncidentRow, PageRow
from storage.uow import UnitOfWork

INCIDENTS = 10_000
PAGES = 1_000
RUN_SECONDS = float(os.environ.get("BENCH_TIMER_SECONDS", "60"))
TICK = 0.5


async def seed(engine: AsyncEngine, channels: list[str], users: list[str], now: datetime) -> None:
    """Incidents with reminders due over the next hour; pages with steps due over the next 5 minutes."""
    sessions = session_factory(engine)
    async with sessions() as session:
        for n in range(INCIDENTS):
            due = now + timedelta(seconds=3600 * n / INCIDENTS)
            session.add(
                IncidentRow(
                    team_id="T1",
                    number=n + 1,
                    title=f"Incident {n}",
                    severity="SEV2",
                    status="investigating",
                    declared_by=users[0],
                    declare_key=f"bench:{n}",
                    declared_at=now - timedelta(minutes=10),
                    channel_id=channels[n],
                    next_update_due=due,
                    reminder_at=due,
                )
            )
        await session.flush()
        for n in range(PAGES):
            user = users[n % len(users)]
            session.add(
                PageRow(
                    team_id="T1",
                    # from the other end, so a page and a reminder rarely hit one channel in the same second
                    incident_id=INCIDENTS - n,
                    title=f"Incident {n}",
                    severity="SEV2",
                    source=f"user:{user}",
                    plan=plan_for_user(user).to_json(),
                    status=TRIGGERED,
                    next_step_at=now + timedelta(seconds=300 * n / PAGES),
                    created_by=users[0],
                    created_at=now,
                )
            )
        await session.commit()


async def test_bench_timers(bench_db: str) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.double_server",
        str(INCIDENTS),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=2**24,  # the first line lists 10,000 channel ids
    )
    assert server.stdin is not None and server.stdout is not None
    info = json.loads(await asyncio.wait_for(server.stdout.readline(), 120))
    engine = create_engine(bench_db)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
    try:
        await upgrade_to_head(engine)
        start = datetime.now(UTC) + timedelta(seconds=20)
        await seed(engine, info["channels"], info["users"], start)
        assert datetime.now(UTC) < start - timedelta(seconds=5), "seeding took too long for a fair start"
        metrics = Metrics()
        client = build_web_client(token="xoxb-test-token", base_url=info["api_url"], session=http, metrics=metrics)
        slack = SlackGateway(client, http, post_interval=1.0)
        policy = Policy()
        sessions = session_factory(engine)

        def uow(*, read_only: bool = False) -> UnitOfWork:
            return UnitOfWork(sessions, read_only=read_only)

        def clock() -> datetime:
            return datetime.now(UTC)

        pager = Pager(uow=uow, slack=slack, messages=messages, policy=policy, clock=clock, metrics=metrics)
        timers = Timers(
            uow=uow,
            reminders=Reminders(slack=slack, messages=messages, policy=policy, metrics=metrics, clock=clock),
            pager=pager,
            clock=clock,
        )

        idle = []
        for _ in range(5):  # before anything is due: the cost of looking
            cpu = time.process_time()
            assert await timers.tick() == 0
            idle.append((time.process_time() - cpu) * 1000)
        await asyncio.sleep((start - datetime.now(UTC)).total_seconds())

        cpu_per_tick: list[float] = []
        fired = 0
        end = time.monotonic() + RUN_SECONDS
        next_tick = time.monotonic()
        main_thread: list[float] = []
        while time.monotonic() < end:
            cpu, own = time.process_time(), time.thread_time()
            fired += await timers.tick()
            cpu_per_tick.append((time.process_time() - cpu) * 1000)
            main_thread.append((time.thread_time() - own) * 1000)
            next_tick += TICK
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))

        lateness = []
        for sample in metrics.registry.collect():
            if sample.name == "tocsin_timer_lateness_seconds":
                for s in sample.samples:
                    if s.name.endswith("_sum") or s.name.endswith("_count"):
                        lateness.append((s.labels["kind"], s.name.rsplit("_", 1)[1], s.value))
        buckets = {
            (s.labels["kind"], s.labels["le"]): s.value
            for family in metrics.registry.collect()
            if family.name == "tocsin_timer_lateness_seconds"
            for s in family.samples
            if s.name.endswith("_bucket")
        }
        cpu_sorted = sorted(cpu_per_tick)
        p99 = cpu_sorted[int(len(cpu_sorted) * 0.99) - 1]
        kind = bench_db.split(":", 1)[0]
        within = {
            k: f"{buckets[(k, '1.0')] / buckets[(k, '+Inf')]:.1%} <= 1 s"
            for k in ("reminder", "page")
            if buckets.get((k, "+Inf"))
        }
        print(
            f"\n[{kind}] {INCIDENTS} incidents with reminders, {PAGES} active pages; {len(cpu_per_tick)} ticks "
            f"over {RUN_SECONDS:.0f} s fired {fired} timers"
            f"\n[{kind}] CPU per tick: idle {statistics.median(idle):.1f} ms, busy p50 "
            f"{statistics.median(cpu_sorted):.1f} ms, p99 {p99:.1f} ms, max {cpu_sorted[-1]:.1f} ms "
            f"(event-loop thread alone: p50 {statistics.median(main_thread):.1f} ms)"
            f"\n[{kind}] lateness: {within}; sums/counts {lateness}"
        )
        assert fired > 0
    finally:
        await http.close()
        await engine.dispose()
        server.stdin.close()
        await server.wait()
