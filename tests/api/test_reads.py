"""Reading through the API: incidents listed, filtered, sorted and paged; one incident in full; its
timeline, updates, follow-ups, pages and postmortem draft; follow-ups across incidents, the stats, who is
on call, and the event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import EVERY_SCOPE, Api, OpenApi, granting_policy
from tests.conftest import settle

ALL_FIELDS = {"id", "reference", "title", "severity", "status", "private", "declared_at"}


async def page_through(api: Api, token: str, path: str, **params: str) -> list[dict[str, Any]]:
    """Every item of a paged list, following next_cursor; each page no longer than asked."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = await api.get(path, token, **params, **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        assert len(answer.body["items"]) <= int(params.get("limit", "50"))
        items += answer.body["items"]
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
async def writer(api: Api) -> str:
    """A token with every scope."""
    return await api.token("writer", *EVERY_SCOPE)


async def test_the_list_is_newest_first_a_page_at_a_time_on_both_databases(api_on_both: Api) -> None:
    api = api_on_both
    token = await api.token("writer", *EVERY_SCOPE)
    for n in range(1, 6):
        await api.declare(token, f"Outage number {n}")
    listed = await page_through(api, token, "/api/v1/incidents", limit="2")
    assert [i["reference"] for i in listed] == ["INC-5", "INC-4", "INC-3", "INC-2", "INC-1"]
    assert all(set(item) >= ALL_FIELDS for item in listed)
    oldest_first = await page_through(api, token, "/api/v1/incidents", limit="3", sort="number")
    assert [i["number"] for i in oldest_first] == [1, 2, 3, 4, 5]
    # A page is computed from its cursor, not an offset: what is declared meanwhile is not seen twice.
    first = await api.get("/api/v1/incidents", token, limit="2", sort="declared_at")
    await api.declare(token, "Outage number 6")
    assert len(await page_through(api, token, "/api/v1/incidents", limit="4", sort="declared_at")) == 6
    second = await api.get("/api/v1/incidents", token, limit="2", sort="declared_at", cursor=first.body["next_cursor"])
    assert [i["number"] for i in second.body["items"]] == [3, 4]


async def test_filters_narrow_the_list_on_both_databases(open_api: OpenApi, database_url: str) -> None:
    api = await open_api(database_url, granting_policy())
    token = await api.token("writer", *EVERY_SCOPE)
    await api.declare(token, "Checkout errors", "SEV1", description="Card payments fail")
    await api.declare(token, "Search is slow", "SEV3")
    await api.declare(token, "Leaked key", "SEV2", private=True)
    resolved = await api.post("/api/v1/incidents/INC-2/resolve", token, {"summary": "Reindexed"})
    assert resolved.status == 200, resolved.body
    await settle(api.tocsin)

    async def numbers(**params: str) -> list[int]:
        answer = await api.get("/api/v1/incidents", token, sort="number", **params)
        assert answer.status == 200, answer.body
        return [item["number"] for item in answer.body["items"]]

    assert await numbers(severity="SEV1") == [1]
    assert await numbers(status="resolved") == [2]
    assert await numbers(status="open") == [1, 3]
    assert await numbers(service="checkout") == [1]
    assert await numbers(private="true") == [3]
    assert await numbers(private="false") == [1, 2]
    assert await numbers(q="PAYMENTS") == [1]  # the description, any case
    assert await numbers(q="slow") == [2]
    assert await numbers(q="100%_") == []  # LIKE's wildcards are matched as themselves
    now = datetime.now(UTC)
    assert await numbers(declared_after=(now - timedelta(hours=1)).isoformat()) == [1, 2, 3]
    assert await numbers(declared_before=(now - timedelta(hours=1)).isoformat()) == []
    assert await numbers(resolved_after=(now - timedelta(hours=1)).isoformat()) == [2]


async def test_one_incident_in_full_by_reference_or_id(api: Api, writer: str) -> None:
    general = api.double.channel_named("general")
    await api.double.slash_command("U0ALICE", general.id, "declare sev2 Checkout errors")
    await settle(api.tocsin)
    changed = await api.post("/api/v1/incidents/INC-1/severity", writer, {"severity": "sev1", "reason": "Spreading"})
    assert changed.status == 200, changed.body
    by_reference = await api.get("/api/v1/incidents/inc-1", writer)
    assert by_reference.status == 200
    incident = by_reference.body
    assert (await api.get(f"/api/v1/incidents/{incident['id']}", writer)).body == incident
    assert incident["reference"] == "INC-1" and incident["severity"] == "SEV1"
    assert incident["roles"] == {"incident_commander": "U0ALICE"} and incident["commander"] == "U0ALICE"
    assert [(r["role"], r["user"], r["end"]) for r in incident["role_history"]] == [
        ("incident_commander", "U0ALICE", None)
    ]
    history = [(s["previous"], s["severity"], s["actor"]) for s in incident["severity_history"]]
    assert history == [(None, "SEV2", "U0ALICE"), ("SEV2", "SEV1", "token:writer")]
    assert incident["channel_id"] == api.double.channel_named("inc-1-checkout-errors").id
    assert incident["links"]["timeline"] == "/api/v1/incidents/INC-1/timeline"
    assert incident["links"]["slack_channel"].startswith("https://slack.com/app_redirect?channel=")


async def test_the_timeline_and_updates_a_page_at_a_time(api: Api, writer: str) -> None:
    await api.declare(writer, "Checkout errors")
    for n in range(3):
        answer = await api.post("/api/v1/incidents/INC-1/updates", writer, {"text": f"Update {n}"})
        assert answer.status == 200, answer.body
        assert (await api.post("/api/v1/incidents/INC-1/notes", writer, {"text": f"Note {n}"})).status == 200
    timeline = await page_through(api, writer, "/api/v1/incidents/INC-1/timeline", limit="2")
    times = [entry["occurred_at"] for entry in timeline]
    assert times == sorted(times) and len({entry["id"] for entry in timeline}) == len(timeline)
    assert [e["text"] for e in timeline if e["kind"] == "note"] == ["Note 0", "Note 1", "Note 2"]
    updates = await page_through(api, writer, "/api/v1/incidents/INC-1/updates", limit="2")
    assert [u["kind"] for u in updates] == ["update"] * 3 and "Update 2" in updates[-1]["text"]
    assert {u["actor"] for u in updates} == {"token:writer"}


async def test_follow_ups_of_an_incident_and_across_incidents(api: Api, writer: str) -> None:
    await api.declare(writer, "Checkout errors")
    await api.declare(writer, "Search is slow")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    for ref, text, owner in (("INC-1", "Add a pool alert", "U0BOB"), ("INC-2", "Reindex nightly", None)):
        body = {"text": text, "owner": owner, "due_on": tomorrow} if owner else {"text": text}
        added = await api.post(f"/api/v1/incidents/{ref}/follow-ups", writer, body)
        assert added.status == 201, added.body
    done = await api.post(f"/api/v1/follow-ups/{added.body['id']}/done", writer, {})
    assert done.status == 200 and done.body["state"] == "done" and done.body["done_by"] == "token:writer"
    of_one = await api.get("/api/v1/incidents/INC-1/follow-ups", writer)
    assert [(f["text"], f["owner"], f["due_on"]) for f in of_one.body["items"]] == [
        ("Add a pool alert", "U0BOB", tomorrow)
    ]
    every = await page_through(api, writer, "/api/v1/follow-ups", limit="1")
    assert [f["incident_reference"] for f in every] == ["INC-1", "INC-2"]
    assert [f["text"] for f in (await api.get("/api/v1/follow-ups", writer, state="open")).body["items"]] == [
        "Add a pool alert"
    ]
    assert (await api.get("/api/v1/follow-ups", writer, owner="U0BOB")).body["items"][0]["overdue"] is False
    assert (await api.get("/api/v1/follow-ups", writer, overdue="true")).body["items"] == []


async def test_pages_postmortem_and_stats(api: Api, writer: str) -> None:
    general = api.double.channel_named("general")
    await api.double.slash_command("U0ALICE", general.id, "declare sev2 Checkout errors")
    await settle(api.tocsin)
    channel = api.double.channel_named("inc-1-checkout-errors")
    await api.double.slash_command("U0ALICE", channel.id, "page @bob")
    await settle(api.tocsin)
    pages = await api.get("/api/v1/incidents/INC-1/pages", writer)
    assert [(p["source"], p["status"]) for p in pages.body["items"]] == [("user:U0BOB", "triggered")]
    postmortem = await api.get("/api/v1/incidents/INC-1/postmortem", writer)
    assert postmortem.status == 200 and postmortem.media_type == "text/markdown"
    incident = (await api.get("/api/v1/incidents/INC-1", writer)).body
    assert postmortem.body == await api.tocsin.deps.postmortems.draft(incident["id"])
    stats = await api.get("/api/v1/stats", writer)
    figures = await api.tocsin.deps.stats.compute("T0TOCSIN", days=None)
    assert stats.body["total"] == figures.total == 1
    assert [s["severity"] for s in stats.body["by_severity"]] == ["SEV2"]
    assert (await api.get("/api/v1/stats", writer, days="7")).body["since"] is not None


async def test_who_is_on_call_now_or_at_a_time(open_api: OpenApi, sqlite_url: str) -> None:
    api = await open_api(sqlite_url, granting_policy())
    token = await api.token("reader", "incidents:read")
    at = await api.get("/api/v1/oncall", token, at="2026-11-04T12:00:00Z")
    assert at.body["items"] == [
        {
            "schedule": "primary",
            "user": "U0ALICE",
            "next_handoff_at": "2026-11-09T09:00:00Z",
            "next_user": "U0BOB",
        }
    ]
    later = await api.get("/api/v1/oncall", token, at="2026-11-10T12:00:00+01:00", schedule="primary")
    assert later.body["at"] == "2026-11-10T11:00:00Z" and later.body["items"][0]["user"] == "U0BOB"
    (await api.get("/api/v1/oncall", token, schedule="nobody")).problem(404)
    assert [row["schedule"] for row in (await api.get("/api/v1/oncall", token)).body["items"]] == ["primary"]


async def test_the_event_log_is_read_on_from_a_cursor(api: Api) -> None:
    token = await api.token("puller", "events:read", "incidents:write", "incidents:read")
    await api.declare(token, "Checkout errors")
    first = await api.get("/api/v1/events", token, limit="1")
    assert first.status == 200 and [e["kind"] for e in first.body["items"]] == ["incident.declared"]
    event = first.body["items"][0]
    assert event["incident"] == {"id": 1, "reference": "INC-1"} and event["actor"] == "token:puller"
    await api.post("/api/v1/incidents/INC-1/notes", token, {"text": "Looking"})
    rest = await api.get("/api/v1/events", token, after=first.body["next_cursor"])
    assert "incident.note_added" in [e["kind"] for e in rest.body["items"]]
    assert event["id"] not in [e["id"] for e in rest.body["items"]]
    drained = await api.get("/api/v1/events", token, after=rest.body["next_cursor"])
    assert drained.body == {"items": [], "next_cursor": rest.body["next_cursor"]}  # poll again from there
    notes = await api.get("/api/v1/events", token, kind="incident.note_added")
    assert [e["data"] for e in notes.body["items"]] == [{"text": "Looking"}]
    (await api.get("/api/v1/events", await api.token("reader", "incidents:read"))).problem(403)
