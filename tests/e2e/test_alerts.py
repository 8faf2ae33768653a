"""Alert webhooks end to end: auth, limits, routing, deduplication (also across restarts), resolution,
declaring from an alert, and a burst of 200 alerts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import func, select

from bot.app import Tocsin
from bot.domain.incidents import DetectedVia, TimelineKind
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.models import PageRow
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline
from tests.e2e.test_timers import pages_to
from tests.slack_double import SlackDouble

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
TOKEN = "alert-token-123"
POLICY = {
    **PAGING_POLICY,
    "alerts": {
        "routes": [{"match": {"team": "payments"}, "service": "checkout", "declare_at": "SEV1"}],
    },
}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


async def post(tocsin: Tocsin, source: str, body: object, *, token: str | None = TOKEN, raw: bytes | None = None):
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
        pages = (await uow._session.exec(select(func.count()).select_from(PageRow))).one()
    return groups, alerts, pages


async def start(start_tocsin: StartTocsin, url: str, clock: FakeClock, **extra) -> Tocsin:
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
            b'{"groupKey": "g", "alerts": [{"status": "firing", "labels": {}}]}',
            400,
            "fingerprint is required",
        ),
        ("generic", b'{"dedup_key": "k", "title": "' + b"x" * (1024 * 1024) + b'"}', 413, "over 1 MiB"),
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
    await tocsin.timers.tick()
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
    assert double.channel_named("inc-1-payments-api-memory-above-95-in-eu-1") is not None
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
