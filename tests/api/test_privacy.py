"""A private incident never reaches a token without `private:read`: left out of every list, search, count
and event, and named directly it is "not found" exactly as a number nobody has. With the scope it is
there like any other. Endpoint by endpoint, on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import EVERY_SCOPE, READER, Answer, Api
from tests.conftest import settle

SECRET = "Leaked signing key QX7Z"
SECRET_WORDS = ("QX7Z", "Rotating keys VB3N", "Audit the CI secrets KP2M", "Attacker found JW8D")


@pytest.fixture
async def world(api_on_both: Api) -> tuple[Api, str, str]:
    """A public INC-1 and a private INC-2 (alice's, with an update, a note, a follow-up and a page);
    the API and two tokens: one that may see private incidents and one that may not."""
    api = api_on_both
    insider = await api.token("insider", *EVERY_SCOPE)
    outsider = await api.token("outsider", *(s for s in EVERY_SCOPE if s != "private:read"))
    await api.declare(insider, "Checkout errors")
    general = api.double.channel_named("general")
    await api.double.slash_command("U0ALICE", general.id, f"declare --private sev2 {SECRET}")
    await settle(api.tocsin)
    channel = api.double.channel_named("inc-2-private")
    await api.double.slash_command("U0ALICE", channel.id, "page @bob")
    for path, body in (
        ("updates", {"text": "Rotating keys VB3N"}),
        ("notes", {"text": "Attacker found JW8D"}),
        ("follow-ups", {"text": "Audit the CI secrets KP2M"}),
    ):
        answer = await api.post(f"/api/v1/incidents/INC-2/{path}", insider, body)
        assert answer.status in (200, 201), answer.body
    await api.post("/api/v1/incidents/INC-1/follow-ups", insider, {"text": "Add a pool alert"})
    await settle(api.tocsin)
    return api, insider, outsider


def shows_the_secret(answer: Answer) -> bool:
    said = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
    return any(word in said for word in SECRET_WORDS)


def like_unknown(private: Answer, unknown: Answer, *, ref: str, other: str) -> None:
    """The private incident's answer is the unknown one's, but for the name asked about."""
    private.problem(404)
    body: dict[str, Any] = dict(private.body)
    body["detail"] = body["detail"].replace(ref, other)
    assert body == unknown.body and private.status == unknown.status


async def test_lists_search_counts_and_events_leave_it_out(world: tuple[Api, str, str]) -> None:
    api, insider, outsider = world
    for path, params in (
        ("/api/v1/incidents", {}),
        ("/api/v1/incidents", {"q": "QX7Z"}),
        ("/api/v1/incidents", {"private": "true"}),
        ("/api/v1/incidents", {"status": "open"}),
        ("/api/v1/follow-ups", {}),
        ("/api/v1/events", {"limit": "200"}),
    ):
        hidden, seen = await api.get(path, outsider, **params), await api.get(path, insider, **params)
        assert hidden.status == seen.status == 200, (path, hidden.body)
        assert not shows_the_secret(hidden) and shows_the_secret(seen), (path, params)
        assert all(item.get("private") is not True for item in hidden.body["items"])
    hidden_stats, seen_stats = await api.get("/api/v1/stats", outsider), await api.get("/api/v1/stats", insider)
    assert (hidden_stats.body["total"], seen_stats.body["total"]) == (1, 2)
    assert (hidden_stats.body["open_follow_ups"], seen_stats.body["open_follow_ups"]) == (1, 2)
    assert sum(s["incidents"] for s in hidden_stats.body["by_severity"]) == 1


@pytest.mark.parametrize("below", ["", "/timeline", "/updates", "/follow-ups", "/pages", "/postmortem"])
async def test_named_it_is_not_found_like_a_number_nobody_has(world: tuple[Api, str, str], below: str) -> None:
    api, insider, outsider = world
    incident_id = (await api.get("/api/v1/incidents/INC-2", insider)).body["id"]
    unknown = await api.get(f"/api/v1/incidents/INC-99{below}", outsider)
    like_unknown(await api.get(f"/api/v1/incidents/INC-2{below}", outsider), unknown, ref="INC-2", other="INC-99")
    by_id = await api.get(f"/api/v1/incidents/{incident_id}{below}", outsider)
    like_unknown(by_id, await api.get(f"/api/v1/incidents/99{below}", outsider), ref=str(incident_id), other="99")
    seen = await api.get(f"/api/v1/incidents/INC-2{below}", insider)
    assert seen.status == 200
    assert seen.body["items"] if below == "/pages" else shows_the_secret(seen)  # a private page has no title


async def test_it_cannot_be_changed_without_seeing_it(world: tuple[Api, str, str]) -> None:
    api, insider, outsider = world
    for path, body in (
        ("updates", {"text": "x"}),
        ("notes", {"text": "x"}),
        ("severity", {"severity": "SEV1"}),
        ("status", {"status": "identified"}),
        ("resolve", {}),
        ("follow-ups", {"text": "x"}),
    ):
        (await api.post(f"/api/v1/incidents/INC-2/{path}", outsider, body)).problem(404)
    private_follow_up = (await api.get("/api/v1/incidents/INC-2/follow-ups", insider)).body["items"][0]["id"]
    (await api.post(f"/api/v1/follow-ups/{private_follow_up}/done", outsider, {})).problem(404)
    assert (await api.post(f"/api/v1/follow-ups/{private_follow_up}/done", insider, {})).status == 200


async def test_declaring_a_private_incident_needs_the_scope(world: tuple[Api, str, str]) -> None:
    api, _insider, outsider = world
    refused = await api.post(
        "/api/v1/incidents", outsider, {"title": "Another leak", "severity": "SEV2", "private": True}
    )
    assert "private:read" in refused.problem(403)["detail"]
    reader = await api.token("reader", *READER)
    assert not shows_the_secret(await api.get("/api/v1/incidents", reader))
