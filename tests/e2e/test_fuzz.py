"""Malformed and hostile input at the three entry points (Slack requests over HTTP, the signature check,
alert webhooks): every answer is a 2xx or a 4xx with a reason, and nothing raises unhandled. Slack
requests are also sent as signed raw bytes that need not be UTF-8.

Hypothesis mutates real payloads (a key removed, a value swapped for junk: wrong types, NUL, lone
surrogates, "²", huge numbers, mentions) and each one is sent, signed, to a running Tocsin.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Tocsin, build
from bot.domain.policy import Policy
from tests.conftest import settings_for, settle
from tests.e2e.test_alerts import POLICY as ALERT_POLICY
from tests.e2e.test_alerts import TOKEN, fixture
from tests.slack_double import SlackDouble

EXAMPLES = 120
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["²", "\x00", "a\x00b", "\ud800", "<!channel>", "<@<!here>>", "-1", "0", "99999999999999999999", "", " "]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path inside a JSON-like value."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> dict[str, Any]:
    """`template` with one to three places removed or replaced with junk."""
    payload = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, 3))):
        found = list(paths(payload))
        if not found:
            break
        path = draw(st.sampled_from(found))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JUNK)
    return payload


def fuzz(template: dict[str, Any], send: Callable[[dict[str, Any]], object]) -> None:
    """Call `send(payload)` for EXAMPLES mutations of `template`."""

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(payload=mutated(template))
    def run(payload: dict[str, Any]) -> None:
        send(payload)

    run()


async def deliver_signed(double: SlackDouble, kind: str, payload: dict[str, Any]) -> int:
    """Send a payload as Slack would over HTTP, signed; the status Tocsin answered."""
    if kind == "slash_commands":
        body = form_body(payload)
    elif kind == "interactive":
        body = urlencode({"payload": json.dumps(payload)})
    else:
        body = json.dumps(payload)
    content_type = "application/json" if kind == "events_api" else "application/x-www-form-urlencoded"
    return (await double.post_signed(body, content_type=content_type)).status


def form_body(fields: dict[str, Any]) -> str:
    values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    return urlencode(values, encoding="utf-8", errors="surrogatepass")


T = TypeVar("T")


class Running:
    """A Tocsin and the Slack double on an event loop of the test's own (hypothesis drives it)."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.double: SlackDouble = self.run(SlackDouble().start())
        for user, name in (("U0ALICE", "alice"), ("U0BOB", "bob"), ("U0CAROL", "carol")):
            self.double.add_user(user, name)
        self.double.add_channel("general", members={"U0ALICE", "U0BOB"})
        self.double.add_channel("incidents", members={"U0ALICE", "U0BOB"})
        config = settings_for(self.double, f"sqlite:///{tmp_path / 'fuzz.db'}", alerts_token=TOKEN)
        policy = Policy.model_validate(ALERT_POLICY)
        self.tocsin: Tocsin = self.run(build(config, policy, post_interval=0, header_interval=0, tick_seconds=None))
        self.run(self.tocsin.start())
        self.double.app_url = f"http://127.0.0.1:{self.tocsin.port}/slack/events"

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` to its end on this loop; what it returned."""
        return self.loop.run_until_complete(coroutine)

    def settle(self) -> None:
        self.run(settle(self.tocsin))

    def close(self) -> None:
        self.run(self.tocsin.stop(drain_seconds=5))
        self.run(self.double.stop())
        self.loop.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    app = Running(tmp_path)
    yield app
    app.close()


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Every ERROR record while the test runs: an unhandled exception is logged as one."""
    caplog.set_level(logging.WARNING)
    return caplog.records  # read at the end of the test


def unhandled(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in records if r.levelno >= logging.ERROR]


def test_malformed_slack_requests_get_4xx_and_nothing_raises(running: Running, errors: list[logging.LogRecord]) -> None:
    double = running.double
    general = double.channel_named("general").id
    running.run(double.slash_command("U0ALICE", general, "declare sev2 Checkout errors"))
    running.settle()
    channel = next(c for c in double.channels.values() if c.name.startswith("inc-"))
    header = channel.messages[0]
    running.run(double.click("U0ALICE", channel.id, header["ts"], "incident_post_update"))
    running.settle()
    view_id = list(double.views)[-1]
    ts = double.user_posts("U0BOB", channel.id, "the database is on fire")
    templates: list[tuple[str, dict[str, Any]]] = [
        ("slash_commands", double.slash_payload("U0ALICE", channel.id, "note checking the pool")),
        ("interactive", double.click_payload("U0ALICE", channel.id, header["ts"], "incident_acknowledge")),
        (
            "interactive",
            double.click_payload("U0ALICE", channel.id, header["ts"], "incident_set_severity", value="SEV1"),
        ),
        ("interactive", double.view_submission("U0ALICE", view_id, {"known": "Pool exhausted"})),
        ("events_api", double.pin_event("U0BOB", channel.id, ts)),
        ("events_api", double.edit_event(channel.id, ts, "edited text")),
        ("interactive", double.message_shortcut_payload("U0ALICE", channel.id, ts, "add_to_timeline")),
        ("interactive", double.message_shortcut_payload("U0ALICE", channel.id, ts, "declare_from_message")),
        ("events_api", double.member_joined_event("U0CAROL", channel.id)),
    ]
    statuses: list[int] = []

    for kind, template in templates:

        def send(payload: dict[str, Any], kind: str = kind) -> None:
            statuses.append(running.run(deliver_signed(double, kind, payload)))

        fuzz(template, send)
    running.settle()
    assert statuses and all(s < 500 for s in statuses), sorted(set(statuses))
    assert 400 in statuses  # malformed payloads were recognised, not just ignored
    assert unhandled(errors) == []


def test_bad_signatures_are_always_401(running: Running, errors: list[logging.LogRecord]) -> None:
    double = running.double
    body = urlencode(double.slash_payload("U0ALICE", double.channel_named("general").id, "list"))
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        timestamp=st.one_of(st.text(max_size=14), st.sampled_from(["²³", "1e9", "-1", "9" * 40, "", "\uff10"])),
        signature=st.one_of(st.text(max_size=80), st.just("v0=" + "0" * 64)),
    )
    def send(timestamp: str, signature: str) -> None:
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        headers = {k: v.encode("utf-8", "surrogatepass").decode("latin-1", "replace") for k, v in headers.items()}
        headers = {k: "".join(c for c in v if c.isprintable()) for k, v in headers.items()}
        statuses.append(running.run(post_raw(double, body, headers)))

    send()
    assert set(statuses) == {401}
    assert unhandled(errors) == []


def test_signed_bodies_of_raw_bytes_get_4xx_and_nothing_raises(
    running: Running, errors: list[logging.LogRecord]
) -> None:
    double = running.double
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        raw=st.one_of(st.binary(max_size=200), st.binary(max_size=40).map(lambda b: b'{"type": "' + b + b'"}')),
        content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded"]),
    )
    def send(raw: bytes, content_type: str) -> None:
        statuses.append(running.run(post_signed_bytes(double, raw, content_type)))

    send()
    not_utf8 = [b"\xff\xfe\x00{", b'{"type": "event_callback", "event": {"type": "\xff"}}', b"payload=\xff\xfe"]
    for raw in not_utf8:  # validly signed, not UTF-8: unreadable, not a server error
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            assert running.run(post_signed_bytes(double, raw, content_type)) == 400, raw
    assert statuses and all(s < 500 for s in statuses), sorted(set(statuses))
    assert unhandled(errors) == []


async def post_signed_bytes(double: SlackDouble, raw: bytes, content_type: str) -> int:
    """POST `raw` to /slack/events signed as Slack signs (an HMAC of the bytes, whatever they are)."""
    stamp = str(int(time.time()))
    digest = hmac.new(double.signing_secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}
    url = double.app_url
    assert url is not None
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=raw, headers={"Content-Type": content_type, **headers}) as response,
    ):
        return response.status


async def post_raw(double: SlackDouble, body: str, headers: dict[str, str]) -> int:
    url = double.app_url
    assert url is not None
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url,
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        ) as response,
    ):
        return response.status


def test_malformed_alert_bodies_get_4xx_and_nothing_raises(running: Running, errors: list[logging.LogRecord]) -> None:
    generic: dict[str, Any] = {"dedup_key": "k", "title": "Disk full", "severity": "critical", "service": "checkout"}
    generic |= {"started_at": "2026-11-23T09:58:30Z", "url": "https://example.com/a", "labels": {"team": "x"}}
    templates = {
        "alertmanager": fixture("alertmanager_firing.json"),
        "grafana": fixture("grafana_firing.json"),
        "generic": generic,
    }
    statuses: list[int] = []
    for source, template in templates.items():

        def send(payload: dict[str, Any], source: str = source) -> None:
            statuses.append(running.run(post_alert(running.tocsin, source, json.dumps(payload).encode())))

        fuzz(template, send)
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"dedup_key": "\\ud800", "title": "\\u0000"}', b"\xff\xfe"):
        statuses.append(running.run(post_alert(running.tocsin, "generic", raw)))
    running.settle()
    assert statuses and all(s < 500 for s in statuses), sorted(set(statuses))
    assert unhandled(errors) == []


async def post_alert(tocsin: Tocsin, source: str, raw: bytes) -> int:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{tocsin.port}/alerts/{source}", data=raw, headers=headers) as response,
    ):
        return response.status
