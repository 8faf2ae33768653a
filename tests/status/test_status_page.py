"""The public status page over HTTP (HTML, Atom, Statuspage's JSON): only published words ever appear (never
an unpublished or private incident, an internal title or update, a channel or an INC number), published
text renders inert, components follow the severity mapping, and every answer comes from the in-memory
snapshot: ETags and 304s, Cache-Control, and no SQL per request while nothing changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from xml.etree import ElementTree

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.domain.incidents import Status
from bot.entrypoints.status import StatusPage
from storage.db import create_engine
from tests.status.world import (
    PUBLIC_URL,
    Statements,
    StatusWorld,
    serving,
    status_policy,
    world_for,
)

Client = TestClient[web.Request, web.Application]
EVERY_BODY = (
    "/status",
    "/status/feed.atom",
    "/status/api/v2/summary.json",
    "/status/api/v2/incidents.json",
    "/status/api/v2/components.json",
    "/status/api/v2/status.json",
    "/status/api/v2/incidents/unresolved.json",
)


async def eventually(condition: Callable[[], object], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the status page never caught up"
        await asyncio.sleep(0.01)


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[StatusWorld]:
    made = await world_for(sqlite_url)
    yield made
    await made.engine.dispose()


@pytest.fixture
async def client(world: StatusWorld) -> AsyncIterator[Client]:
    async for served in serving(world.page):
        await eventually(lambda: world.page.rendered is not None)
        yield served


async def caught_up(world: StatusWorld) -> None:
    """Wait until the page shows what the database holds now."""
    version = await world.board.version()
    await eventually(lambda: world.page.rendered is not None and world.page.rendered.version >= version)


async def everything(client: Client) -> dict[str, str]:
    """Every body the status page serves, by path."""
    bodies = {}
    for path in EVERY_BODY:
        response = await client.get(path)
        assert response.status == 200, path
        bodies[path] = await response.text()
    return bodies


async def test_only_published_words_appear_anywhere(world: StatusWorld, client: Client) -> None:
    shown = await world.declare("Primary DB failover in eu-west-1 (pg-17)")
    await world.publish(shown, "Some customers cannot pay.", known="pgbouncer saturated on db-eu-3")
    await world.update(shown, "Ops: restarting pgbouncer on db-eu-3")
    hidden = await world.declare("Unpublished: cache stampede on api", service="api")
    await world.update(hidden, "stampede internal words")
    secret = await world.declare("Leaked signing keys", private=True)
    await world.update(secret, "rotating the leaked keys")
    await caught_up(world)
    never = ("eu-west-1", "pg-17", "pgbouncer", "db-eu-3", "stampede", "eaked", "inc-", "INC-", "C0INC", "U0ALICE")
    for path, body in (await everything(client)).items():
        assert [word for word in never if word in body] == [], path
        if "incidents" in path or "summary" in path or not path.endswith(".json"):
            assert "Investigating an issue with checkout" in body and "Some customers cannot pay." in body, path


async def test_the_components_follow_the_severity_mapping(world: StatusWorld, client: Client) -> None:
    checkout = await world.declare(severity="SEV1")
    api = await world.declare("API slow", service="api", severity="SEV3")
    await world.publish(checkout, "Checkout is down.")
    await world.publish(api, "The API is slow.")
    await caught_up(world)
    summary = await (await client.get("/status/api/v2/summary.json")).json()
    assert {c["name"]: c["status"] for c in summary["components"]} == {
        "checkout": "major_outage",
        "api": "degraded_performance",
    }
    assert summary["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    html = await (await client.get("/status")).text()
    assert "Major outage" in html and "Degraded performance" in html and "Major Service Outage" in html
    await world.resolve(checkout)
    await caught_up(world)
    summary = await (await client.get("/status/api/v2/summary.json")).json()
    assert {c["name"]: c["status"] for c in summary["components"]}["checkout"] == "operational"
    assert summary["status"]["indicator"] == "minor"
    assert [i["name"] for i in summary["incidents"]] == ["Investigating an issue with api"]


async def test_statuspage_s_json_shape(world: StatusWorld, client: Client) -> None:
    incident = await world.declare()
    await world.publish(incident, "Investigating.", title="Checkout errors")
    await world.lifecycle.change_status(incident.id, status=Status.MONITORING, actor="U0ALICE")
    await world.publish(incident, "A fix is out; we are watching.")
    await world.resolve(incident)
    await caught_up(world)
    body = await (await client.get("/status/api/v2/incidents.json")).json()
    assert set(body) == {"page", "incidents"}
    assert set(body["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
    assert body["page"]["url"] == f"{PUBLIC_URL}/status" and body["page"]["name"] == "Example status"
    (shown,) = body["incidents"]
    assert {"id", "name", "status", "impact", "created_at", "updated_at", "monitoring_at", "resolved_at",
            "shortlink", "started_at", "page_id", "incident_updates", "components"} <= set(shown)  # fmt: skip
    assert (shown["name"], shown["status"], shown["impact"]) == ("Checkout errors", "resolved", "major")
    assert shown["resolved_at"] is not None and shown["monitoring_at"] is not None
    assert [u["status"] for u in shown["incident_updates"]] == ["resolved", "monitoring", "investigating"]
    assert shown["incident_updates"][0]["body"] == "This incident has been resolved."
    assert {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"} <= set(
        shown["incident_updates"][0]
    )
    assert [c["name"] for c in shown["components"]] == ["checkout"]
    summary = await (await client.get("/status/api/v2/summary.json")).json()
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    response = await client.get("/status/api/v2/summary.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.content_type == "application/json"


async def test_script_as_public_wording_renders_inert(world: StatusWorld, client: Client) -> None:
    attack = "<script>alert(1)</script>"
    incident = await world.declare()
    await world.publish(incident, f'{attack} "><img src=x onerror=alert(2)>', title=attack)
    await caught_up(world)
    html = await (await client.get("/status")).text()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    atom = await (await client.get("/status/feed.atom")).text()
    assert "<script" not in atom and "<img" not in atom
    summary = await (await client.get("/status/api/v2/summary.json")).json()
    assert summary["incidents"][0]["name"] == attack  # JSON is data: the words as published


async def test_pages_have_no_inline_script_or_style_and_carry_the_security_headers(client: Client) -> None:
    response = await client.get("/status")
    html = await response.text()
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    css = await client.get("/status/static/status.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_etags_answer_304_until_something_changes(world: StatusWorld, client: Client) -> None:
    for path in EVERY_BODY:
        first = await client.get(path)
        etag = first.headers["ETag"]
        assert etag.startswith('"') and first.headers["Cache-Control"] == "public, max-age=15"
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and again.headers["ETag"] == etag and await again.read() == b""
        assert (await client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})).status == 304
    before = (await client.get("/status")).headers["ETag"]
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    await caught_up(world)
    changed = await client.get("/status", headers={"If-None-Match": before})
    assert changed.status == 200 and changed.headers["ETag"] != before


async def test_no_sql_runs_per_request_while_nothing_changes(world: StatusWorld, client: Client) -> None:
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    await caught_up(world)
    builds = world.page.rebuilds
    await world.page.stop()  # the refresher's own look every 2 s is not a request's
    statements = Statements(world.engine)
    for _ in range(20):
        for path in EVERY_BODY:
            assert (await client.get(path)).status == 200
    assert statements.count == 0
    world.page.start()
    await eventually(lambda: statements.count >= 6)  # a few of the refresher's looks (every 0.05 s here)
    assert world.page.rebuilds == builds  # each one a cheap read: nothing changed, nothing rebuilt


async def test_a_publication_made_elsewhere_shows_within_the_refresh(world: StatusWorld, client: Client) -> None:
    """Another replica's change reaches this one through the event log's position, read every `every`."""
    etag = world.page.body("")
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    await eventually(lambda: world.page.body("") != etag)


async def test_this_process_s_commit_rebuilds_at_once_through_its_doorbell(world: StatusWorld) -> None:
    page = StatusPage(world.board, public_url=PUBLIC_URL, doorbell=world.committed, every=3600, min_gap=0.0)
    page.start()
    try:
        await eventually(lambda: page.rendered is not None)
        incident = await world.declare()
        await world.publish(incident, "We are investigating.")  # its commit rings the doorbell
        await eventually(lambda: shows(page, b"We are investigating."))
    finally:
        await page.stop()


async def test_the_history_moves_on_at_midnight_without_any_change(world: StatusWorld, client: Client) -> None:
    builds = world.page.rebuilds
    world.clock.advance(days=1)
    await eventually(lambda: world.page.rebuilds > builds)
    assert world.page.rendered is not None and world.page.rendered.today == world.clock().date()


async def test_before_the_first_build_the_page_says_it_is_starting(sqlite_url: str) -> None:
    empty = StatusWorld(create_engine(sqlite_url), status_policy())  # not migrated: the page cannot be read
    async for client in serving(empty.page):
        response = await client.get("/status")
        assert response.status == 503 and response.headers["Retry-After"] == "5"


def shows(page: StatusPage, words: bytes) -> bool:
    body = page.body("")
    return body is not None and words in body.content


async def test_a_client_taking_gzip_gets_the_compressed_copy_with_its_own_etag(client: Client) -> None:
    plain = await client.get("/status", headers={"Accept-Encoding": "identity"})
    packed = await client.get("/status", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    assert await plain.read() == await packed.read()  # the client unpacked it
    assert plain.headers["ETag"] != packed.headers["ETag"] and packed.headers["Vary"] == "Accept-Encoding"
    refused = await client.get("/status", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


async def test_the_atom_feed_has_an_entry_per_incident_with_its_public_updates(
    world: StatusWorld, client: Client
) -> None:
    first = await world.declare()
    await world.publish(first, "Checkout fails.", title="Checkout errors")
    await world.resolve(first)
    second = await world.declare("API slow", service="api")
    await world.publish(second, "The API is slow & we <know> it.")
    await caught_up(world)
    response = await client.get("/status/feed.atom")
    assert response.content_type == "application/atom+xml"
    feed = ElementTree.fromstring(await response.read())  # noqa: S314 - our own feed, in a test
    atom = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{atom}entry")
    titles = [e.findtext(f"{atom}title") for e in entries]
    assert titles == ["Investigating an issue with api (Investigating)", "Checkout errors (Resolved)"]
    content = entries[0].findtext(f"{atom}content") or ""
    assert "The API is slow &amp; we &lt;know&gt; it." in content  # HTML, with the words escaped in it
    assert feed.find(f"{atom}link[@rel='self']").get("href") == f"{PUBLIC_URL}/status/feed.atom"  # type: ignore[union-attr]
