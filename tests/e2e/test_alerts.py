"""Alert webhooks end to end: auth (and rotating the token), limits, refusals that say why and are
counted, routing, deduplication (also across restarts), resolution, declaring from an alert, a burst of
200 alerts, the older and neighbouring senders' shapes, a group of 1,200 alerts, and a database that is
away."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.app import Tocsin
from bot.domain.alerts import fingerprint_of
from bot.domain.incidents import DetectedVia, TimelineKind
from bot.domain.policy import Policy
from bot.entrypoints.alert_webhooks import MAX_ALERT_BODY
from storage.db import session_factory
from storage.models import PageRow
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline, timers_of
from tests.e2e.test_process import clean_env, run
from tests.e2e.test_timers import pages_to
from tests.faults.tcp_proxy import TcpProxy
from tests.slack_double import SlackDouble

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
TOKEN = "alerts-7f3c9a1e5b2d4c6e8f0a1b2c3d4e5f60"
POLICY = {
    **PAGING_POLICY,
    "alerts": {
        "routes": [{"match": {"team": "payments"}, "service": "checkout", "declare_at": "SEV1"}],
    },
}


def fixture(name: str) -> dict[str, Any]:
    """A webhook body saved from a real sender."""
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


async def post(
    tocsin: Tocsin, source: str, body: object, *, token: str | None = TOKEN, raw: bytes | None = None
) -> tuple[int, Any]:
    """POST an alert webhook; the status and the JSON answer."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{tocsin.port}/alerts/{source}", data=data, headers=headers) as response,
    ):
        return response.status, await response.json()


async def counts(tocsin: Tocsin) -> tuple[int, int, int]:
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        groups, alerts = await uow.alerts.count()
        assert uow._session is not None
        pages = (await uow._session.exec(select(func.count()).select_from(PageRow))).one()
    return groups, alerts, pages


async def start(start_tocsin: StartTocsin, url: str, clock: FakeClock, **extra: Any) -> Tocsin:
    return await start_tocsin(url, clock=clock, policy=Policy.model_validate(POLICY), alerts_token=TOKEN, **extra)


async def test_requests_without_the_right_token_are_refused(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start(start_tocsin, sqlite_url, clock)
    body = fixture("alertmanager_firing.json")
    assert (await post(tocsin, "alertmanager", body, token=None))[0] == 401
    assert (await post(tocsin, "alertmanager", body, token="wrong"))[0] == 401
    assert (await post(tocsin, "nagios", body))[0] == 404
    assert await counts(tocsin) == (0, 0, 0)


async def test_with_no_token_configured_everything_is_refused(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(POLICY))
    assert (await post(tocsin, "alertmanager", fixture("alertmanager_firing.json"), token=""))[0] == 401
    assert (await post(tocsin, "generic", {"dedup_key": "a", "title": "t"}, token="anything"))[0] == 401


@pytest.mark.parametrize(
    ("source", "raw", "status", "reason"),
    [
        ("generic", b"{not json", 400, "malformed JSON"),
        ("generic", b'{"title": "no key"}', 400, "'dedup_key' is required"),
        ("generic", b'{"dedup_key": "k", "title": "t", "status": "maybe"}', 400, "'status' must be firing or resolved"),
        ("alertmanager", b'{"version": "4", "groupKey": "g", "alerts": []}', 400, "'alerts' must be a non-empty list"),
        ("alertmanager", b'{"version": "3", "groupKey": "g", "alerts": [{}]}', 400, "version 4"),
        (
            "grafana",
            b'{"groupKey": "g", "alerts": [{"status": "firing", "labels": {}, "fingerprint": 7}]}',
            400,
            "fingerprint must be a string",
        ),
        ("grafana", b'{"ruleName": "CPU", "state": "exploded"}', 400, "'state' must be alerting"),
        ("grafana", b'{"alert_group": {"title": "no id"}}', 400, "'alert_group.id' is required"),
        ("generic", b'{"dedup_key": "k", "title": "' + b"x" * MAX_ALERT_BODY + b'"}', 413, "over 16 MiB"),
    ],
)
async def test_bad_bodies_are_refused_with_the_reason_and_nothing_is_stored(
    people: SlackDouble,
    start_tocsin: StartTocsin,
    sqlite_url: str,
    clock: FakeClock,
    source: str,
    raw: bytes,
    status: int,
    reason: str,
) -> None:
    tocsin = await start(start_tocsin, sqlite_url, clock)
    code, body = await post(tocsin, source, None, raw=raw)
    assert code == status and reason in body["error"]
    assert await counts(tocsin) == (0, 0, 0)


async def test_an_alertmanager_group_pages_its_service_once_and_resolving_cancels_the_page(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, sqlite_url, clock)
    assert (await post(tocsin, "alertmanager", fixture("alertmanager_firing.json")))[0] == 200
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1  # the checkout primary on call
    assert "Checkout 5xx rate above 5% (+1 more)" in pages_to(double, "U0BOB")[0]["text"]
    notice = double.messages_in("#incidents")[-1]["text"]
    assert (
        "*Alert firing:* Checkout 5xx rate above 5%" in notice and "*SEV1*" in notice and "paging `payments`" in notice
    )
    await post(tocsin, "alertmanager", fixture("alertmanager_firing.json"))  # firing again: no second page
    await settle(tocsin)
    assert await counts(tocsin) == (1, 2, 1)
    code, summary = await post(tocsin, "alertmanager", fixture("alertmanager_resolved.json"))
    await settle(tocsin)
    assert code == 200 and summary["action"] == "resolved"
    assert "This page was cancelled: its alerts resolved." in double.dm_messages("U0BOB")[-1]["text"]
    clock.advance(minutes=30)
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert pages_to(double, "U0CAROL") == []  # nothing escalates after the alert resolved
    # Firing again after it resolved is a new occurrence: a new page.
    await post(tocsin, "alertmanager", fixture("alertmanager_firing.json"))
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1  # the new page's DM (the old one now says cancelled)
    assert (await counts(tocsin))[2] == 2


async def test_a_grafana_alert_at_the_routes_severity_declares_an_incident_detected_by_monitoring(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, sqlite_url, clock)
    assert (await post(tocsin, "grafana", fixture("grafana_firing.json")))[0] == 200
    await settle(tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.title == "Payments API memory above 95% in eu-1" and incident.severity == "SEV1"
    assert incident.detected_via is DetectedVia.MONITORING and incident.service == "checkout"
    assert incident.detected_at == datetime(2026, 11, 23, 7, 51, 3, 157076, tzinfo=UTC)  # the alert's start, in UTC
    assert double.find_channel_named("inc-1-payments-api-memory-above-95-in-eu-1") is not None
    assert len(pages_to(double, "U0BOB")) == 1  # paged once, for the incident
    assert any(e.kind is TimelineKind.ALERT for e in await stored_timeline(tocsin, 1))
    await post(tocsin, "grafana", fixture("grafana_firing.json"))
    await settle(tocsin)
    assert len([c for c in double.channels.values() if c.name.startswith("inc-")]) == 1


async def test_an_alert_no_route_matches_still_goes_somewhere(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, sqlite_url, clock)
    body = {"dedup_key": "disk-full-db-9", "title": "Disk 97% on db-9", "severity": "warning"}
    assert (await post(tocsin, "generic", body))[0] == 200
    await settle(tocsin)
    notice = double.messages_in("#incidents")[-1]["text"]
    assert "*Alert firing:* Disk 97% on db-9 · *SEV3* · not routed to any escalation policy" in notice


async def test_deduplication_survives_a_restart(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    first = await start(start_tocsin, database_url, clock)
    await post(first, "alertmanager", fixture("alertmanager_firing.json"))
    await settle(first)
    await first.stop(drain_seconds=5)
    second = await start(start_tocsin, database_url, clock)
    await post(second, "alertmanager", fixture("alertmanager_firing.json"))
    await settle(second)
    assert len(pages_to(double, "U0BOB")) == 1
    assert await counts(second) == (1, 2, 1)


async def test_two_hundred_alerts_in_a_second_lose_none_and_page_once_per_fingerprint(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start(start_tocsin, database_url, clock)
    bodies = [
        {
            "dedup_key": f"checkout-{n % 50}",
            "title": f"Checkout alert {n % 50}",
            "service": "checkout",
            "severity": "error",
        }
        for n in range(200)
    ]
    started = asyncio.get_running_loop().time()
    results = await asyncio.gather(*(post(tocsin, "generic", body) for body in bodies))
    elapsed = asyncio.get_running_loop().time() - started
    await settle(tocsin)
    assert all(code == 200 for code, _ in results), [r for r in results if r[0] != 200][:3]
    groups, alerts, pages = await counts(tocsin)
    assert (groups, alerts, pages) == (50, 50, 50)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        from sqlmodel import func, select

        from storage.models import AlertRow

        assert uow._session is not None
        seen = (await uow._session.exec(select(func.sum(AlertRow.times_seen)))).one()
    assert seen == 200  # every delivery counted, none lost
    print(f"200 alerts accepted in {elapsed:.2f} s")


async def test_long_alert_keys_page_once_per_group_and_never_share_an_incident(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    shared_prefix = '{}/{team="payments"}:' + "x" * 380  # longer than every key column
    paged = fixture("alertmanager_firing.json")
    paged["groupKey"] = shared_prefix + "-paged" * 20  # 500+ characters
    paged["alerts"][0]["fingerprint"] = "f" * 300
    for suffix in ("-one", "-two"):  # declared groups whose keys differ only after 255 characters
        body = fixture("grafana_firing.json")
        body["groupKey"] = shared_prefix + suffix
        body["alerts"][0]["fingerprint"] = "g" * 400 + suffix
        assert (await post(tocsin, "grafana", body))[0] == 200
    for _ in range(2):  # the paged group twice: one page
        assert (await post(tocsin, "alertmanager", paged))[0] == 200
        await settle(tocsin)
    await settle(tocsin)
    assert len([c for c in double.channels.values() if c.name.startswith("inc-")]) == 2
    groups, alerts, pages = await counts(tocsin)
    assert (groups, alerts, pages) == (3, 4, 3)  # one page per group: two declared, one paged
    generic = {"dedup_key": "k" * 600, "title": "Long dedup key", "service": "checkout", "severity": "critical"}
    assert (await post(tocsin, "generic", generic))[0] == 200
    assert (await post(tocsin, "generic", generic))[0] == 200
    await settle(tocsin)
    assert (await counts(tocsin))[2] == 4


async def metric(tocsin: Tocsin, series: str) -> float:
    """The value of one series on /metrics (0 when it is not there yet)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{tocsin.port}/metrics") as response,
    ):
        text = await response.text()
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(series + " ")]
    return float(values[0]) if values else 0.0


def refused(source: str, reason: str) -> str:
    return f'tocsin_alerts_refused_total{{reason="{reason}",source="{source}"}}'


async def test_every_refusal_says_why_in_one_log_line_and_is_counted(
    people: SlackDouble,
    start_tocsin: StartTocsin,
    sqlite_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tocsin = await start(start_tocsin, sqlite_url, clock)
    caplog.set_level(logging.WARNING, logger="bot.entrypoints.alert_webhooks")
    body = fixture("alertmanager_firing.json")
    assert (await post(tocsin, "alertmanager", body, token="wrong"))[0] == 401
    assert (await post(tocsin, "alertmanager", body, token="wrong"))[0] == 401
    assert (await post(tocsin, "nagios\nforged line", body))[0] == 404
    assert (await post(tocsin, "grafana", {"receiver": "x"}))[0] == 400
    assert (await post(tocsin, "generic", None, raw=b"{oops"))[0] == 400
    assert await metric(tocsin, refused("alertmanager", "unauthorized")) == 2
    assert await metric(tocsin, refused("unknown", "unknown_source")) == 1
    assert await metric(tocsin, refused("grafana", "invalid_payload")) == 1
    assert await metric(tocsin, refused("generic", "malformed_json")) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.entrypoints.alert_webhooks"]
    assert len(lines) == 5 and all("\n" not in line for line in lines)
    assert (
        lines[0] == "refused an alert webhook to /alerts/alertmanager (401 unauthorized): missing or wrong bearer token"
    )
    assert "'alerts' must be a non-empty list" in lines[3]
    assert not any(r.exc_info for r in caplog.records)
    assert TOKEN not in caplog.text


async def test_the_previous_token_is_accepted_alongside_the_new_one_while_rotating(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    new = "alerts-NEW-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
    tocsin = await start_tocsin(
        sqlite_url, clock=clock, policy=Policy.model_validate(POLICY), alerts_token=new, alerts_token_previous=TOKEN
    )
    first = {"dedup_key": "disk-1", "title": "Disk 91% on db-1", "severity": "warning"}
    assert (await post(tocsin, "generic", first, token=new))[0] == 200
    assert (await post(tocsin, "generic", {**first, "dedup_key": "disk-2"}, token=TOKEN))[0] == 200
    assert (await post(tocsin, "generic", first, token=new[:-1]))[0] == 401
    assert (await counts(tocsin))[:2] == (2, 2)


async def test_a_weak_alerts_token_stops_check_with_one_line_naming_it(tmp_path: Path) -> None:
    env = clean_env(
        PYTHONPATH=os.getcwd(), SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", ALERTS_TOKEN="replace-me"
    )
    code, out, err = await run("check", "--settings", env=env, cwd=tmp_path)
    assert code == 2
    assert err.splitlines()[0].startswith("tocsin: ALERTS_TOKEN is invalid: too weak; use at least 32 characters")
    assert "replace-me" not in out + err and "Traceback" not in out + err


async def test_alertmanager_before_0_19_without_fingerprints_pages_once_and_keeps_them_on_upgrade(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    old = fixture("alertmanager_0_18_firing.json")
    assert (await post(tocsin, "alertmanager", old))[0] == 200
    assert (await post(tocsin, "alertmanager", old))[0] == 200  # the same alerts: the same fingerprints
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1
    assert "Checkout p99 latency above 2s (+1 more)" in pages_to(double, "U0BOB")[0]["text"]
    assert await counts(tocsin) == (1, 2, 1)
    # Alertmanager 0.19 and later send the fingerprint themselves: the one derived here.
    upgraded = fixture("alertmanager_0_18_firing.json")
    for alert in upgraded["alerts"]:
        alert["fingerprint"] = fingerprint_of(alert["labels"])
    assert (await post(tocsin, "alertmanager", upgraded))[0] == 200
    assert await counts(tocsin) == (1, 2, 1)


def legacy(state: str) -> dict[str, Any]:
    """Grafana's published legacy webhook example, its rule tagged to route to checkout."""
    body = fixture("grafana_legacy_alerting.json")
    return {**body, "state": state, "tags": {"service": "checkout", "severity": "critical"}}


async def test_legacy_grafana_alerting_pages_on_alerting_and_stands_down_on_ok(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, sqlite_url, clock)
    code, summary = await post(tocsin, "grafana", legacy("pending"))
    assert (code, summary["action"]) == (200, "ignored") and await counts(tocsin) == (0, 0, 0)
    assert (await post(tocsin, "grafana", legacy("alerting")))[0] == 200
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1 and "Panel Title alert" in pages_to(double, "U0BOB")[0]["text"]
    code, summary = await post(tocsin, "grafana", legacy("ok"))
    await settle(tocsin)
    assert (code, summary["action"]) == (200, "resolved")
    assert "This page was cancelled: its alerts resolved." in double.dm_messages("U0BOB")[-1]["text"]
    # The example exactly as published (no routing tags) takes the default route: a notice, no page.
    assert (await post(tocsin, "grafana", fixture("grafana_legacy_alerting.json")))[0] == 200
    await settle(tocsin)
    assert "*Alert firing:* Panel Title alert · *SEV3* · not routed" in double.messages_in("#incidents")[-1]["text"]


async def test_grafana_oncall_alert_groups_page_once_and_their_resolve_stands_the_page_down(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, sqlite_url, clock)
    resolved = fixture("grafana_oncall_resolve.json")
    created = json.loads(json.dumps(resolved))
    created["event"]["type"] = "alert group created"
    created["alert_group"].update(state="firing", resolved_at=None, acknowledged_at=None, title="Checkout down")
    created["alert_payload"]["labels"].update(service="checkout", severity="critical")
    assert (await post(tocsin, "grafana", created))[0] == 200
    created["event"]["type"] = "escalation"
    assert (await post(tocsin, "grafana", created))[0] == 200  # the same alert group: no second page
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1 and "Checkout down" in pages_to(double, "U0BOB")[0]["text"]
    code, summary = await post(tocsin, "grafana", resolved)  # the published example: a resolve
    await settle(tocsin)
    assert (code, summary["action"]) == (200, "resolved")
    assert await counts(tocsin) == (1, 1, 1)


async def test_a_group_of_1200_alerts_is_accepted_whole_and_pages_once(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    body = fixture("alertmanager_0_18_firing.json")
    template = body["alerts"][0]
    body["alerts"] = [kubernetes_alert(template, n) for n in range(1200)]
    raw = json.dumps(body).encode()
    assert len(raw) > 1.18 * 1024 * 1024  # the 1.19 MiB group once refused at 1 MiB
    started = asyncio.get_running_loop().time()
    code, summary = await post(tocsin, "alertmanager", None, raw=raw)
    elapsed = asyncio.get_running_loop().time() - started
    await settle(tocsin)
    assert (code, summary["action"]) == (200, "started")
    assert await counts(tocsin) == (1, 1200, 1)
    assert "Checkout p99 latency above 2s (+1199 more)" in pages_to(double, "U0BOB")[0]["text"]
    print(f"1,200 alerts ({len(raw) / 1024 / 1024:.2f} MiB) accepted in {elapsed:.2f} s")


def kubernetes_alert(template: dict[str, Any], n: int) -> dict[str, Any]:
    """One of many pods' alerts, with the labels Kubernetes service discovery gives it (about 1 KiB)."""
    node = f"ip-10-0-{n // 250}-{n % 250}.eu-west-1.compute.internal"
    labels = {
        **template["labels"],
        **{"instance": f"10.0.{n // 250}.{n % 250}:8080", "pod": f"checkout-7d9f8b6c5-{n:05d}", "node": node},
        **{"namespace": "payments", "container": "checkout", "job": "kubernetes-pods", "endpoint": "http-metrics"},
        **{"prometheus": "monitoring/k8s", "service_account": "checkout", "team": "payments-platform"},
        "pod_template_hash": "7d9f8b6c5",
    }
    description = f"p99 latency on pod checkout-7d9f8b6c5-{n:05d} ({node}) is above the 2s objective " * 2
    annotations = {
        **template["annotations"],
        "description": description,
        "runbook_url": "https://runbooks.example.com/checkout/latency#p99-above-the-objective",
    }
    return {**template, "labels": labels, "annotations": annotations}


async def test_an_alert_while_the_database_refuses_connections_gets_503_with_retry_after(
    people: SlackDouble,
    start_tocsin: StartTocsin,
    proxied: tuple[str, TcpProxy],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    double = people
    url, proxy = proxied
    tocsin = await start(start_tocsin, url, clock)
    caplog.set_level(logging.WARNING)
    await proxy.cut()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{tocsin.port}/alerts/alertmanager",
            json=fixture("alertmanager_firing.json"),
            headers=headers,
        ) as response,
    ):
        assert response.status == 503 and response.headers["Retry-After"] == "10"
        assert "the database is unreachable" in (await response.json())["error"]
    lines = [r for r in caplog.records if r.name == "bot.entrypoints.alert_webhooks"]
    assert len(lines) == 1 and "(503 database_unreachable)" in lines[0].getMessage()
    assert not any(r.exc_info for r in caplog.records), "no traceback in the log"
    assert await metric(tocsin, refused("alertmanager", "database_unreachable")) == 1
    await proxy.restore()
    # Alertmanager retries a 5xx: the retry is taken, and pages once.
    await eventually_accepted(tocsin, fixture("alertmanager_firing.json"))
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1


async def eventually_accepted(tocsin: Tocsin, body: dict[str, Any], within: float = 20.0) -> None:
    """Post `body` until it is answered 200 (the pool reconnects after an outage)."""
    deadline = asyncio.get_running_loop().time() + within
    while (await post(tocsin, "alertmanager", body))[0] != 200:
        assert asyncio.get_running_loop().time() < deadline, "the alert was never accepted after the outage"
        await asyncio.sleep(0.2)
