"""A Slack outage during an alert storm: every alert is accepted (Slack's state never refuses an alert),
and once Slack answers again every page reaches its person exactly once."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.domain.policy import Policy
from tests.conftest import FakeClock, StartTocsin, settle, timers_of
from tests.e2e.test_alerts import POLICY, TOKEN, fixture, post
from tests.e2e.test_timers import pages_to
from tests.faults.tcp_proxy import TcpProxy
from tests.slack_double import SlackDouble

GROUPS = 20


@pytest.fixture
async def slack_proxy(people: SlackDouble) -> AsyncIterator[TcpProxy]:
    """The Slack double behind a proxy the test can cut (connections refused, like an unreachable Slack)."""
    port = int(people.api_url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = await TcpProxy("127.0.0.1", port).start()
    yield proxy
    await proxy.stop()


def alert_group(n: int) -> dict[str, Any]:
    """One Alertmanager group of one alert, its own alert name (so a new group and a new page)."""
    body = copy.deepcopy(fixture("alertmanager_firing.json"))
    name = f"CheckoutProblem{n}"
    body["groupKey"] = f'{{}}:{{alertname="{name}"}}'
    body["groupLabels"] = {"alertname": name}
    body["commonLabels"] = {**body["commonLabels"], "alertname": name}
    body["alerts"] = body["alerts"][:1]
    body["alerts"][0]["labels"] = {**body["alerts"][0]["labels"], "alertname": name}
    body["alerts"][0]["fingerprint"] = f"{n:016x}"
    return body


def shown_pages(double: SlackDouble, user: str) -> int:
    """How many pages `user` was shown: DMs of their own plus the entries of their digest DMs."""
    digests = [m for m in double.dm_messages(user) if "pages at once" in m["text"]]
    entries = {b["block_id"] for d in digests for b in d["blocks"] if str(b.get("block_id", "")).startswith("page:")}
    return len(pages_to(double, user)) + len(entries)


async def ready(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/readyz") as response,
    ):
        return response.status, await response.json()


async def test_alerts_during_a_slack_outage_are_accepted_and_paged_once_afterwards(
    people: SlackDouble,
    start_tocsin: StartTocsin,
    sqlite_url: str,
    clock: FakeClock,
    slack_proxy: TcpProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    double = people
    monkeypatch.setattr("bot.slack.web_client.RETRY_BACKOFF_FACTOR", 0.01)  # each refused call fails fast
    tocsin = await start_tocsin(
        sqlite_url,
        clock=clock,
        policy=Policy.model_validate(POLICY),
        alerts_token=TOKEN,
        slack_api_url=f"http://127.0.0.1:{slack_proxy.port}/api/",
    )
    await slack_proxy.cut()
    for n in range(GROUPS):
        status, _ = await post(tocsin, "alertmanager", alert_group(n))
        assert status in (200, 202), f"alert group {n} was refused during the Slack outage ({status})"
    assert (await ready(tocsin.port))[0] == 200  # this replica still takes work: Slack's state is detail
    for _ in range(6):  # a minute of Slack refusing connections: pages wait rather than escalate
        clock.advance(seconds=10)
        await timers_of(tocsin).tick()
        await settle(tocsin)
    assert shown_pages(double, "U0BOB") == 0

    await slack_proxy.restore()
    for _ in range(3):
        clock.advance(seconds=6)
        await timers_of(tocsin).tick()
        await settle(tocsin)
    assert shown_pages(double, "U0BOB") == GROUPS  # every page, once (alone or in a digest DM)
    assert shown_pages(double, "U0CAROL") == 0  # nobody skipped to the next tier while Slack was away
