"""Fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), the Slack double, and
a real Tocsin process-in-a-task wired to both."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import Tocsin, build
from bot.domain.incidents import Incident, TimelineEntry
from bot.domain.policy import Policy
from bot.entrypoints.job_runner import JobRunner
from bot.entrypoints.timers import Timers
from bot.settings import Settings, load_settings
from bot.usecases.ports import utc_now
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.faults.tcp_proxy import TcpProxy
from tests.slack_double import SlackDouble
from tests.values import FakeClock as FakeClock  # tests import it from here

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
NO_POSTGRES = "TEST_DATABASE_URL is not set; PostgreSQL tests need a server (CI sets it)"


@pytest.fixture
def running() -> list[Tocsin]:
    """The Tocsins a test started: stopped before its PostgreSQL database is dropped, whichever fixture
    the test happened to ask for first (a running app would otherwise reconnect to a dropped database)."""
    return []


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, running: list[Tocsin]) -> AsyncIterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tocsin.db'}"
        return
    async for url in _fresh_postgres(running):
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'tocsin.db'}"


@pytest.fixture
async def postgres_url(running: list[Tocsin]) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (skipped without TEST_DATABASE_URL)."""
    async for url in _fresh_postgres(running):
        yield url


async def _fresh_postgres(running: list[Tocsin] | None = None) -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    admin_url = make_url(POSTGRES_URL)
    name = f"tocsin_test_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        await stop_all(running or [])
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def proxied(postgres_url: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    url = make_url(postgres_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    await proxy.stop()


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    """A Slack workspace with alice, bob and carol, #general and #incidents."""
    slack = await SlackDouble().start()
    alice = slack.add_user("U0ALICE", "alice")
    bob = slack.add_user("U0BOB", "bob")
    slack.add_user("U0CAROL", "carol")
    slack.add_channel("general", members={alice, bob})
    slack.add_channel("incidents", members={alice, bob})
    yield slack
    await slack.stop()


TEST_POOL_SIZE = 10  # PostgreSQL connections each test Tocsin keeps open (the least allowed)


def settings_for(double: SlackDouble, database_url: str, *, socket: bool = False, **extra: Any) -> Settings:
    """Settings pointing at the double, on a free port, never reading a .env file."""
    values: dict[str, Any] = {
        "slack_bot_token": double.bot_token,
        "slack_signing_secret": double.signing_secret,
        "slack_api_url": double.api_url,
        "database_url": database_url,
        "host": "127.0.0.1",
        "port": 0,
        # Four test processes, some with two replicas each, share one PostgreSQL (max_connections 100).
        "database_pool_size": TEST_POOL_SIZE,
        "_env_file": None,
    }
    if socket:
        values["slack_app_token"] = double.app_token
    values.update(extra)
    return load_settings(Settings, **values)


StartTocsin = Callable[..., Awaitable[Tocsin]]


@pytest.fixture
async def start_tocsin(double: SlackDouble, running: list[Tocsin]) -> AsyncIterator[StartTocsin]:
    """Start real Tocsin apps against the double; every one is stopped after the test."""
    started = running

    async def start(
        database_url: str,
        *,
        transport: str = "http",
        policy: Policy | None = None,
        post_interval: float = 0.0,
        header_interval: float = 0.0,
        clock: Callable[[], datetime] = utc_now,
        **extra: Any,
    ) -> Tocsin:
        settings = settings_for(double, database_url, socket=transport == "socket", **extra)
        tocsin = await build(
            settings,
            policy or Policy(),
            post_interval=post_interval,
            header_interval=header_interval,
            tick_seconds=None,  # tests drive the timers with tocsin.timers.tick()
            clock=clock,
            tier_minute=double.tier_minute,  # Tocsin paces the rate tiers on the double's minute
        )
        await tocsin.start()
        started.append(tocsin)
        double.app_url = f"http://127.0.0.1:{tocsin.port}/slack/events"
        if transport == "socket":
            await double.wait_for_socket()
        return tocsin

    yield start
    await stop_all(started)


async def stop_all(started: list[Tocsin]) -> None:
    """Stop every app started (idempotent: a test, or another fixture, may have stopped it already)."""
    for tocsin in started:
        await tocsin.stop(drain_seconds=5)


async def eventually(
    condition: Callable[[], object], *, within: float = 5.0, every: float = 0.01, what: str = "the condition"
) -> None:
    """Wait until `condition()` holds; AssertionError naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} never came true within {within:g}s"
        await asyncio.sleep(every)


SETTLE_WITHIN = 60.0  # generous: a loaded 2-core machine runs a busy test's work many times slower than an idle one


def timers_of(tocsin: Tocsin) -> Timers:
    """An app's timer clock, which tests drive with `tick()`."""
    assert tocsin.timers is not None, "the app was built without timers"
    return tocsin.timers


def jobs_of(tocsin: Tocsin) -> JobRunner:
    """An app's scheduled-jobs clock, which tests drive with `tick()` (contact attempts, handoffs…)."""
    assert tocsin.jobs is not None, "the app was built without a job runner"
    return tocsin.jobs


async def settle(tocsin: Tocsin) -> None:
    """Wait until the work acknowledged so far (and any timer tick it woke, and the event-log subscribers'
    work it led to) has finished."""
    for _ in range(3):
        assert await tocsin.deps.background.wait_idle(SETTLE_WITHIN), "accepted work did not finish"
        await timers_of(tocsin).idle()
        if tocsin.jobs is not None:
            await tocsin.jobs.idle()
        if tocsin.events is not None:
            assert await tocsin.events.idle(SETTLE_WITHIN), "the event log's subscribers did not catch up"


async def stored_incident(tocsin: Tocsin, number: int, team_id: str = "T0TOCSIN") -> Incident:
    """An incident as the database has it now."""
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        incident = await uow.incidents.by_number(team_id, number)
    assert incident is not None
    return incident


async def stored_timeline(tocsin: Tocsin, number: int, team_id: str = "T0TOCSIN") -> list[TimelineEntry]:
    """An incident's timeline as the database has it now."""
    incident = await stored_incident(tocsin, number, team_id)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        return await uow.incidents.timeline(incident.id)


@pytest.fixture
def clock() -> FakeClock:
    """A clock starting on Monday 2026-11-23 10:00 UTC."""
    return FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


@pytest.fixture
def people(double: SlackDouble) -> SlackDouble:
    """The double plus dave and erin, and the S0MGMT group (dave) that paging policies notify."""
    double.add_user("U0DAVE", "dave")
    double.add_user("U0ERIN", "erin")
    double.groups["S0MGMT"] = {"U0DAVE"}
    return double
