"""schemathesis against a live Tocsin, from the OpenAPI document it serves: whatever it sends (valid data,
and data the document rules out), the API never answers 5xx, and every answer has a status, content type
and body the document declares. On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

schemathesis calls the API synchronously (requests), so the app runs on an event loop of its own, in a
thread, with the Slack double beside it; each operation's cases are drawn from schemathesis's strategy
for it (its pytest plugin's lazy loader does not run under pytest 9)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncGenerator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import Tocsin, build
from bot.domain.policy import Policy
from tests.api.conftest import EVERY_SCOPE
from tests.conftest import _fresh_postgres, settings_for, settle
from tests.slack_double import SlackDouble

T = TypeVar("T")
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Cases per operation and kind of data: the whole run stays well under a minute on a loaded machine
# (API_EXAMPLES=200 digs deeper, by hand).
EXAMPLES = int(os.environ.get("API_EXAMPLES", "20"))
POLICY = {
    "schedules": {"primary": {"rotation": "weekly", "handoff": "mon 09:00", "users": ["U0ALICE", "U0BOB"]}},
    "services": {"checkout": {"keywords": ["checkout"]}},
}


@dataclass(frozen=True)
class LiveApi:
    """A Tocsin serving its API on its own event loop: where, and a token with every scope."""

    base: str
    token: str


class Loop:
    """An event loop running in a thread of its own, given coroutines to run from this one."""

    def __init__(self) -> None:
        """Start the loop."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-api", daemon=True)
        self.thread.start()

    def run(self, work: Awaitable[T], *, within: float = 120.0) -> T:
        """Run `work` on the loop and wait for its result."""

        async def done() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(done(), self.loop).result(within)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


async def _start(url: str) -> tuple[SlackDouble, Tocsin, str]:
    double = await SlackDouble().start()
    alice = double.add_user("U0ALICE", "alice")
    bob = double.add_user("U0BOB", "bob")
    double.add_channel("general", members={alice, bob})
    double.add_channel("incidents", members={alice, bob, double.bot_user_id})
    tocsin = await build(
        settings_for(double, url, api_rate_limit=100_000, api_rate_burst=100_000),
        Policy.model_validate(POLICY),
        post_interval=0.0,
        header_interval=0.0,
        tick_seconds=None,
        tier_minute=double.tier_minute,
    )
    await tocsin.start()
    double.app_url = f"http://127.0.0.1:{tocsin.port}/slack/events"
    token = await tocsin.deps.api_tokens.create("conformance", EVERY_SCOPE)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        base = f"http://127.0.0.1:{tocsin.port}/api/v1"
        for title, private in (("Checkout errors", False), ("Leaked key", True), ("Slow search", False)):
            body = {"title": title, "severity": "SEV2", "private": private}
            async with http.post(f"{base}/incidents", json=body) as answer:
                assert answer.status == 201, await answer.text()
        async with http.post(f"{base}/incidents/INC-1/follow-ups", json={"text": "Add an alert"}) as answer:
            assert answer.status == 201, await answer.text()
        async with http.post(f"{base}/incidents/INC-3/updates", json={"text": "Found it"}) as answer:
            assert answer.status == 200, await answer.text()
    await settle(tocsin)
    return double, tocsin, token


async def _stop(double: SlackDouble, tocsin: Tocsin) -> None:
    await tocsin.stop(drain_seconds=10)
    await double.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveApi]:
    """A live Tocsin on each database, with three incidents (one private), a follow-up and an update."""
    loop = Loop()
    databases: AsyncGenerator[str, None] | None = None
    try:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'tocsin.db'}"
        else:
            databases = cast(AsyncGenerator[str, None], _fresh_postgres())
            url = loop.run(databases.__anext__())
        double, tocsin, token = loop.run(_start(url))
        try:
            yield LiveApi(f"http://127.0.0.1:{tocsin.port}", token)
        finally:
            loop.run(_stop(double, tocsin))
    finally:
        if databases is not None:
            loop.run(databases.aclose())
        loop.close()


def test_the_api_keeps_to_its_document(live: LiveApi) -> None:
    """Every operation, with data the document allows and data it rules out."""
    document = schemathesis.openapi.from_url(f"{live.base}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {live.token}"}
    operations = [result.ok() for result in document.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) == 19
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def conforms(case: Any) -> None:
                case.call_and_validate(base_url=live.base, headers=headers, checks=CHECKS)

            try:
                conforms()
            except Exception as exc:
                raise AssertionError(f"{operation.label} ({mode.value} data): {exc}") from exc
