"""The status page end to end: the real app and the strict Slack double, `/incident update --public` and
the update form publishing, the resolution posted on resolve, a private incident refused, and what
`GET /status` (and its feeds) then show."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from bot.app import Tocsin
from bot.domain.policy import Policy
from tests.builders import declare
from tests.conftest import StartTocsin, settle
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

POLICY = {
    "services": {
        "checkout": {"keywords": ["checkout"], "status_page": True},
        "billing-db": {"keywords": ["billing"]},
    },
    "status_page": {"title": "Example status"},
}


async def started(start_tocsin: StartTocsin, sqlite_url: str) -> Tocsin:
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate(POLICY))
    if not any(getattr(r.resource, "canonical", None) == "/status" for r in tocsin.web_app.router.routes()):
        pytest.skip("the status page's routes are not wired into the app yet (bot/wiring.py and bot/app.py)")
    return tocsin


async def page(tocsin: Tocsin, path: str = "/status", *, showing: str | None = None) -> str:
    """A body the app serves, once it shows `showing` (the snapshot catches up within seconds)."""
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"http://127.0.0.1:{tocsin.port}{path}") as response:
                body = await response.text()
                if response.status == 200 and (showing is None or showing in body):
                    return body
            assert time.monotonic() < deadline, f"{path} never showed {showing!r}"
            await asyncio.sleep(0.1)


async def command(double: SlackDouble, tocsin: Tocsin, user: str, channel: Channel, text: str) -> list[str]:
    before = len(double.replies_to(user))
    ack = await double.slash_command(user, channel.id, text)
    await settle(tocsin)
    return ([ack.text] if ack.text else []) + double.replies_to(user)[before:]


async def test_publishing_from_the_command_shows_only_the_public_words(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await started(start_tocsin, sqlite_url)
    channel = await declare(double, tocsin, "declare sev1 Checkout down: billing-db replica lag on db-eu-3")
    await command(double, tocsin, "U0ALICE", channel, "update pgbouncer restarted on db-eu-3")
    await command(double, tocsin, "U0ALICE", channel, 'update --public --title "Payment errors" Some payments fail.')
    html = await page(tocsin, showing="Some payments fail.")
    assert "Payment errors" in html and "Major outage" in html
    for body in (html, await page(tocsin, "/status/feed.atom"), await page(tocsin, "/status/api/v2/summary.json")):
        assert "db-eu-3" not in body and "pgbouncer" not in body and "INC-1" not in body and channel.name not in body
    assert any("posted to the status page" in m.get("text", "") for m in channel.messages)
    await command(double, tocsin, "U0ALICE", channel, "resolve Replica rebuilt")
    resolved = await page(tocsin, showing="This incident has been resolved.")
    assert "Replica rebuilt" not in resolved


async def test_publishing_from_the_update_form(double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str) -> None:
    tocsin = await started(start_tocsin, sqlite_url)
    channel = await declare(double, tocsin, "declare sev2 Checkout slow")
    await command(double, tocsin, "U0ALICE", channel, "update")
    view = list(double.views.values())[-1]
    values: dict[str, Any] = {
        "known": "Slow queries on the orders table",
        "publish": "publish",
        "public_title": "Slow checkout",
        "public_text": "Checkout is slow for some customers.",
    }
    ack = await double.submit_view("U0ALICE", view["id"], values)
    await settle(tocsin)
    assert ack.status == 200
    html = await page(tocsin, showing="Checkout is slow for some customers.")
    assert "Slow checkout" in html and "orders table" not in html


async def test_a_private_incident_is_refused_and_never_shown(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await started(start_tocsin, sqlite_url)
    channel = await declare(double, tocsin, "declare --private sev1 Leaked checkout keys")
    replies = await command(double, tocsin, "U0ALICE", channel, "update --public Nothing to see.")
    assert any("private, so it can't be published" in r for r in replies)
    for path in ("/status", "/status/feed.atom", "/status/api/v2/incidents.json"):
        body = await page(tocsin, path)
        assert "Nothing to see" not in body and "Leaked" not in body
