"""Status page benchmark (run on demand). The page is served as Tocsin serves it (aiohttp, the security
headers middleware, the in-memory snapshot and its refresher over the real database); the load comes from
another process (tests/bench/fixed_rate.py) at a fixed RATE of GET /status a second for SECONDS, each
request timed from the moment it was due (so a server falling behind shows), every body read.

Each run also prints the CPU time the serving process spent per request (robust to other load on the
machine, which shows in the tail), and first the same load against a bare aiohttp app answering the same
bytes: the machine's floor at that moment.

The page holds a realistic outage-day history: 10 components, 40 incidents published and resolved over the
last 90 days (three updates each), and 3 open ones. Two runs:
1. quiet: nothing changes. Target: p99 < 50 ms, every answer 200, and no SQL per request: the statements
   the database runs during the run are only the refresher's look every 2 s (counted with a SQLAlchemy
   event listener), and the snapshot is not rebuilt.
2. an outage being worked: a public update is published every 2 s during the run (each rebuilds the
   snapshot at once, through the commit's doorbell). Reported, with the same target.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest -q -s tests/bench/test_bench_status.py

BENCH_STATUS_RATE and BENCH_STATUS_SECONDS change the load.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.domain.policy import Policy, Service
from bot.domain.status_policy import StatusPagePolicy
from bot.entrypoints.status import StatusPage, add_status_routes
from bot.entrypoints.status.page import REFRESH_SECONDS
from bot.entrypoints.web_security import security_headers
from tests.status.world import NOW, PUBLIC_URL, Statements, StatusWorld, world_for

RATE = float(os.environ.get("BENCH_STATUS_RATE", "500"))
SECONDS = float(os.environ.get("BENCH_STATUS_SECONDS", "10"))
CONNECTIONS = 64  # browsers and CDN edges: many connections, kept alive
COMPONENTS = [f"service-{n}" for n in range(10)]
PAST, OPEN = 40, 3


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 99 // 100) - 1)]


def policy() -> Policy:
    services = {name: Service(keywords=[name], status_page=True) for name in COMPONENTS}
    return Policy(services=services, status_page=StatusPagePolicy(title="Example status"))


async def fill(world: StatusWorld) -> None:
    """40 incidents over the last 90 days, each published three times and resolved, and 3 still open."""
    world.clock.now = NOW - timedelta(days=89)
    for n in range(PAST + OPEN):
        incident = await world.declare(
            f"Incident {n}", service=COMPONENTS[n % len(COMPONENTS)], severity=f"SEV{1 + n % 3}"
        )
        await world.publish(incident, f"We are investigating reports of errors with {COMPONENTS[n % 10]}.")
        await world.publish(incident, "We have identified the cause and are working on a fix.\nMore soon.")
        await world.publish(incident, "A fix has been deployed; we are monitoring the results.")
        if n < PAST:
            await world.resolve(incident)
            world.clock.advance(days=2, hours=3)
    world.clock.now = NOW


@pytest.fixture
async def served(bench_db: str) -> AsyncIterator[tuple[StatusWorld, StatusPage, str]]:
    world = await world_for(bench_db, policy())
    await fill(world)
    page = StatusPage(world.board, public_url=PUBLIC_URL, doorbell=world.committed)
    app = web.Application(middlewares=[security_headers])
    add_status_routes(app, page)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    for _ in range(500):
        if page.rendered is not None:
            break
        await asyncio.sleep(0.02)
    assert page.rendered is not None, "the page was never built"
    yield world, page, f"http://127.0.0.1:{port}/status"
    await runner.cleanup()
    await world.engine.dispose()


async def load(url: str) -> dict[str, Any]:
    """Run the load generator against `url`; its result, with this (the serving) process's CPU time."""
    cpu = time.process_time()
    job = json.dumps({"url": url, "rate": RATE, "seconds": SECONDS, "connections": CONNECTIONS}).encode()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.fixed_rate", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate(job)
    assert process.returncode == 0
    result: dict[str, Any] = json.loads(out)
    result["server_cpu"] = time.process_time() - cpu
    return result


def summary(name: str, result: dict[str, Any], extra: str = "") -> float:
    latencies: list[float] = result["latencies"]
    trips: list[float] = result["round_trips"]
    worst = p99(latencies)
    print(
        f"\n{name}: {len(latencies)} GET /status in {result['seconds']:.1f} s "
        f"({len(latencies) / result['seconds']:.0f}/s, {result['late']} sent late): from due "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {worst:.1f} ms, max {max(latencies):.1f} ms; "
        f"round trip p50 {statistics.median(trips):.1f} ms, p99 {p99(trips):.1f} ms; "
        f"server CPU {result['server_cpu'] / len(latencies) * 1000:.2f} ms a request "
        f"({result['server_cpu'] / result['seconds']:.0%} of a core); statuses {result['statuses']}{extra}"
    )
    return worst


async def bare_server(body: bytes) -> AsyncIterator[str]:
    """The machine's floor: a bare aiohttp app answering the same gzipped bytes (no middleware, no lookup)."""

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get("/status", answer)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/status"
    await runner.cleanup()


async def test_bench_status_page(served: tuple[StatusWorld, StatusPage, str]) -> None:
    world, page, url = served
    body = page.body("")
    assert body is not None and body.gzipped is not None
    print(
        f"\n/status is {len(body.content) / 1024:.0f} KiB, {len(body.gzipped) / 1024:.0f} KiB gzipped "
        f"({len(COMPONENTS)} components x 90 days, {PAST + OPEN} incidents)"
    )
    async for bare in bare_server(body.gzipped):
        summary("bare aiohttp, same bytes (the machine's floor)", await load(bare))

    builds, statements = page.rebuilds, Statements(world.engine)
    quiet = await load(url)
    looks = SECONDS / REFRESH_SECONDS
    worst = summary("quiet", quiet, f"; {statements.count} SQL statements in all, {page.rebuilds - builds} rebuilds")
    assert quiet["statuses"] == {"200": int(RATE * SECONDS)}
    assert page.rebuilds == builds  # nothing changed: nothing rebuilt
    # Only the refresher's look (its read, and the transaction around it) every 2 s: none per request.
    assert statements.count <= 3 * (looks + 2)
    assert worst < 50.0

    open_one = await world.declare("Ongoing outage", service=COMPONENTS[0], severity="SEV1")

    async def keep_publishing() -> int:
        published = 0
        while True:
            await world.publish(open_one, f"Update {published}: we are still working on it.")
            published += 1
            await asyncio.sleep(2.0)

    builds = page.rebuilds
    publishing = asyncio.create_task(keep_publishing())
    try:
        busy = await load(url)
    finally:
        publishing.cancel()
    worst = summary("publishing every 2 s", busy, f"; {page.rebuilds - builds} rebuilds")
    assert busy["statuses"] == {"200": int(RATE * SECONDS)}
    assert worst < 50.0
