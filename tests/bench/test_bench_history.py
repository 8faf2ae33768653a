"""A year of history (run on demand): 100,000 resolved and 1,000 open incidents in one workspace, one
of them with a 10,000-entry timeline. Times what people open every day, through the use cases (no
Slack): `/incident list`, App Home, page 1 of that timeline (each target < 30 ms) and stats over the
last 90 days (target < 300 ms), on SQLite and PostgreSQL. Median and worst of 20 runs each (stats: 5).

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest -q -s tests/bench/test_bench_history.py

BENCH_HISTORY_RESOLVED shrinks the history for a quick look.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build
from bot.domain.incidents import Status
from bot.domain.policy import Policy
from bot.slack import blocks
from storage.db import session_factory
from storage.models import IncidentRow, RoleAssignmentRow, TimelineEventRow
from storage.uow import UnitOfWork
from tests.conftest import settings_for
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

RESOLVED = int(os.environ.get("BENCH_HISTORY_RESOLVED", "100000"))
OPEN = 1_000
TIMELINE = 10_000
TEAM = "T0TOCSIN"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SERVICES = [f"svc-{n}" for n in range(40)]
SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4"]
PRIVATE_EVERY = 100  # one incident in a hundred is private: its visibility is asked of the double


def incident_rows() -> list[dict[str, Any]]:
    rows = []
    total = RESOLVED + OPEN
    for n in range(1, total + 1):
        declared = NOW - timedelta(minutes=(total - n) * 5.3)  # a year of history, newest last
        resolved = n <= RESOLVED
        rows.append(
            {
                "team_id": TEAM,
                "number": n,
                "title": f"Incident {n}",
                "severity": SEVERITIES[n % 4],
                "status": (Status.RESOLVED if n % 3 else Status.CLOSED) if resolved else Status.INVESTIGATING,
                "description": "",
                "detected_via": "monitoring" if n % 2 else "customer",
                "declared_by": "U0ALICE",
                "declare_key": f"bench:{n}",
                "declared_at": declared,
                "detected_at": declared - timedelta(minutes=3),
                "acknowledged_at": declared + timedelta(minutes=2),
                "resolved_at": declared + timedelta(minutes=40 + n % 90) if resolved else None,
                "service": SERVICES[n % len(SERVICES)] if n % 5 else None,
                "channel_id": f"C{n:08d}",
                "channel_name": f"inc-{n}",
                "setup_attempts": 0,
                "private": n % PRIVATE_EVERY == 0,
            }
        )
    return rows


async def fill(engine: AsyncEngine) -> int:
    """Store the history; the id of the incident with the long timeline."""
    async with engine.begin() as connection:
        rows = incident_rows()
        for start in range(0, len(rows), 5_000):
            await connection.execute(sa.insert(IncidentRow), rows[start : start + 5_000])
        ids = (await connection.execute(sa.text("SELECT id FROM incidents WHERE resolved_at IS NULL"))).scalars()
        open_ids: list[int] = list(ids)
        await connection.execute(
            sa.insert(RoleAssignmentRow),
            [
                {"incident_id": i, "role": "commander", "user_id": "U0ALICE", "assigned_by": "U0ALICE"}
                | {"assigned_at": NOW}
                for i in open_ids
            ],
        )
        long_one = open_ids[0]
        entries = [
            {
                "incident_id": long_one,
                "kind": "note",
                "occurred_at": NOW - timedelta(days=2) + timedelta(seconds=n * 10),
                "actor": "U0ALICE",
                "text": f"Note {n}",
            }
            for n in range(TIMELINE)
        ]
        await connection.execute(sa.insert(TimelineEventRow), entries)
    return long_one


async def timed(what: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    await what()  # warm: statement caches, connections
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await what()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


async def test_bench_history(bench_db: str, tmp_path: Path) -> None:
    double = await SlackDouble().start()
    tocsin = await build(settings_for(double, bench_db), Policy(), clock=lambda: NOW, tick_seconds=None)
    await tocsin.start()
    try:
        started = time.perf_counter()
        long_one = await fill(tocsin.engine)
        filled = time.perf_counter() - started
        deps = tocsin.deps
        async with UnitOfWork(session_factory(tocsin.engine)) as uow:
            incident = await uow.incidents.get(long_one)
        assert incident is not None

        for n in range(RESOLVED + 1, RESOLVED + OPEN + 1):  # the open private incidents' channels
            if n % PRIVATE_EVERY == 0:
                members = {double.bot_user_id} | ({"U0ALICE"} if n % (2 * PRIVATE_EVERY) else set())
                channel = Channel(id=f"C{n:08d}", name=f"inc-{n}-private", is_private=True, members=members)
                double.channels[channel.id] = channel

        async def listing() -> object:
            incidents, total = await deps.incidents.open_incidents(TEAM, viewer="U0ALICE", limit=blocks.LIST_SHOWN)
            return blocks.open_incidents(incidents, now=NOW, total=total)

        async def home() -> object:
            return await deps.home.view_for(TEAM, "U0ALICE")

        async def timeline() -> object:
            return await deps.response.timeline(incident, page=1)

        async def stats() -> object:
            return await deps.stats.compute(TEAM, days=90)

        kind = bench_db.split(":", 1)[0]
        print(f"\n[{kind}] {RESOLVED:,} resolved + {OPEN:,} open incidents stored in {filled:.1f} s")
        for name, what, runs, target in (
            ("/incident list", listing, 20, 30),
            ("App Home view", home, 20, 30),
            (f"timeline page 1 of {TIMELINE:,} entries", timeline, 20, 30),
            ("stats, last 90 days", stats, 5, 300),
        ):
            median, worst = await timed(what, runs)
            print(f"[{kind}] {name}: median {median:.1f} ms, worst {worst:.1f} ms (target < {target} ms)")
    finally:
        await tocsin.stop(drain_seconds=1)
        await double.stop()
