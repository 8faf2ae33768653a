"""Writing through the API: the same use cases as Slack, as the token's principal (`token:<name>`), which
the timeline records, Slack shows by the token's name, and the policy's permissions can grant. Declaring
answers at once and sets the incident up in Slack after; the same Idempotency-Key declares once."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.domain.policy import Policy
from tests.api.conftest import EVERY_SCOPE, Api, OpenApi, granting_policy
from tests.conftest import settle, stored_incident, stored_timeline

DECLARE = "/api/v1/incidents"


async def test_a_declaration_answers_at_once_and_is_set_up_in_slack_after(api: Api) -> None:
    token = await api.token("deploy", *EVERY_SCOPE)
    answer = await api.post(DECLARE, token, {"title": "Checkout errors", "severity": "SEV2"})
    assert answer.status == 201 and answer.body["reference"] == "INC-1"
    assert answer.body["declared_by"] == "token:deploy"
    assert answer.body["commander"] is None and answer.body["roles"] == {}  # a program is nobody's IC
    await settle(api.tocsin)
    channel = api.double.channel_named("inc-1-checkout-errors")
    assert (await stored_incident(api.tocsin, 1)).channel_id == channel.id
    said = json.dumps(api.double.messages_in("incidents")) + json.dumps(channel.messages)
    assert "deploy (API)" in said and "<@token:" not in said  # the token by its name, never a broken mention
    assert "Declared by deploy (API) through the API" in said  # the header
    timeline = await stored_timeline(api.tocsin, 1)
    assert (timeline[0].kind.value, timeline[0].actor) == ("declared", "token:deploy")


async def test_changes_show_the_principal_on_the_timeline(open_api: OpenApi, sqlite_url: str) -> None:
    api = await open_api(sqlite_url, granting_policy())
    token = await api.token("writer", *EVERY_SCOPE)
    await api.declare(token, "Checkout errors", "SEV3")
    steps = [
        ("updates", {"text": "Card payments fail", "doing": "Rolling back"}),
        ("notes", {"text": "Error rate 12%"}),
        ("severity", {"severity": "SEV1", "reason": "Spreading"}),
        ("status", {"status": "identified"}),
        ("resolve", {"summary": "Rolled back", "impact": "Some payments failed", "cause": "A bad deploy"}),
    ]
    for path, body in steps:
        answer = await api.post(f"/api/v1/incidents/INC-1/{path}", token, body)
        assert answer.status == 200, (path, answer.body)
    await settle(api.tocsin)
    incident = (await api.get("/api/v1/incidents/INC-1", token)).body
    assert (incident["severity"], incident["status"]) == ("SEV1", "resolved")
    assert (incident["resolution_summary"], incident["cause"]) == ("Rolled back", "A bad deploy")
    kinds = {e.kind.value: e.actor for e in await stored_timeline(api.tocsin, 1)}
    for kind in ("update", "note", "severity_changed", "status_changed", "resolved"):
        assert kinds[kind] == "token:writer", kind
    channel = api.double.channel_named("inc-1-checkout-errors")
    said = json.dumps(channel.messages)
    assert "writer (API)" in said and "<@token:" not in said


async def test_the_policy_decides_what_a_token_may_do(open_api: OpenApi, sqlite_url: str) -> None:
    policy = Policy.model_validate(
        {"permissions": {"declare": ["U0ALICE"], "severity": ["incident_commander"]}}
    )  # nobody grants a token here
    api = await open_api(sqlite_url, policy)
    token = await api.token("deploy", *EVERY_SCOPE)
    assert "declare" in (await api.post(DECLARE, token, {"title": "x", "severity": "SEV2"})).problem(403)["detail"]
    granted = await open_api(
        sqlite_url.replace("tocsin.db", "granted.db"), granting_policy(permissions={"declare": ["token:deploy"]})
    )
    token = await granted.token("deploy", *EVERY_SCOPE)
    await granted.declare(token, "Checkout errors")
    other = await granted.token("other", *EVERY_SCOPE)
    (await granted.post(DECLARE, other, {"title": "y", "severity": "SEV2"})).problem(403)


async def test_follow_ups_are_made_and_closed_as_the_principal(api: Api) -> None:
    token = await api.token("tracker", "incidents:write", "incidents:read", "follow-ups:write")
    await api.declare(token, "Checkout errors")
    added = await api.post("/api/v1/incidents/INC-1/follow-ups", token, {"text": "Add a pool alert", "owner": "U0BOB"})
    assert added.status == 201 and added.body["created_by"] == "token:tracker" and added.body["state"] == "open"
    done = await api.post(f"/api/v1/follow-ups/{added.body['id']}/done", token, {})
    assert done.body["state"] == "done" and done.body["done_by"] == "token:tracker"
    notes = [e.text for e in await stored_timeline(api.tocsin, 1) if e.actor == "token:tracker"]
    assert "Follow-up added: Add a pool alert (owner <@U0BOB>)" in notes and "Follow-up done: Add a pool alert" in notes
    no_scope = await api.token("reader", "incidents:read", "incidents:write")
    (await api.post("/api/v1/incidents/INC-1/follow-ups", no_scope, {"text": "x"})).problem(403)


async def test_the_same_idempotency_key_declares_once_in_turn_on_both_databases(api_on_both: Api) -> None:
    api = api_on_both
    token = await api.token("deploy", *EVERY_SCOPE)
    body = {"title": "Deploy 4812 failed", "severity": "SEV2"}
    first = await api.post(DECLARE, token, body, **{"Idempotency-Key": "deploy-4812"})
    again = await api.post(DECLARE, token, body, **{"Idempotency-Key": "deploy-4812"})
    assert (first.status, again.status) == (201, 200)
    assert again.body["id"] == first.body["id"]
    other = await api.token("other", *EVERY_SCOPE)  # keys are per token
    assert (await api.post(DECLARE, other, body, **{"Idempotency-Key": "deploy-4812"})).status == 201
    await settle(api.tocsin)
    listed = (await api.get(DECLARE, token)).body["items"]
    assert len(listed) == 2


async def test_the_same_idempotency_key_at_once_declares_once_on_both_databases(api_on_both: Api) -> None:
    api = api_on_both
    token = await api.token("deploy", *EVERY_SCOPE)
    body = {"title": "Deploy 4813 failed", "severity": "SEV2"}
    answers = await asyncio.gather(
        *(api.post(DECLARE, token, body, **{"Idempotency-Key": "deploy-4813"}) for _ in range(5))
    )
    assert sorted(a.status for a in answers) == [200, 200, 200, 200, 201], [a.body for a in answers]
    assert len({a.body["id"] for a in answers}) == 1
    await settle(api.tocsin)
    assert [i["reference"] for i in (await api.get(DECLARE, token)).body["items"]] == ["INC-1"]
    assert len([c for c in api.double.channels.values() if c.name.startswith("inc-")]) == 1


async def test_a_refused_declaration_gives_its_key_back(open_api: OpenApi, sqlite_url: str) -> None:
    api = await open_api(sqlite_url, Policy.model_validate({"permissions": {"declare": ["U0ALICE"]}}))
    token = await api.token("deploy", *EVERY_SCOPE)
    body = {"title": "Deploy failed", "severity": "SEV2"}
    (await api.post(DECLARE, token, body, **{"Idempotency-Key": "k"})).problem(403)
    other_body = {"title": "Another deploy failed", "severity": "SEV2"}
    # the key was given back: another body with it is refused for the policy, not as a conflict
    (await api.post(DECLARE, token, other_body, **{"Idempotency-Key": "k"})).problem(403)


@pytest.mark.parametrize(
    ("path", "body", "shown"),
    [
        ("updates", {"text": "Card payments fail [api-u]"}, "[api-u]"),
        ("severity", {"severity": "SEV1", "reason": "Spreading [api-s]"}, "[api-s]"),
        ("status", {"status": "identified"}, ":traffic_light: Status"),
    ],
)
async def test_a_change_is_answered_once_stored_while_slack_hears_of_it_at_its_own_pace(
    open_api: OpenApi, sqlite_url: str, path: str, body: dict[str, str], shown: str
) -> None:
    api = await open_api(sqlite_url, granting_policy())  # the policy lets the token change status
    token = await api.token("writer", *EVERY_SCOPE)
    await api.declare(token, "Checkout errors", "SEV2")
    await settle(api.tocsin)
    channel = api.double.channel_named("inc-1-checkout-errors")
    before = sum(shown in m["text"] for m in channel.messages)
    api.double.latency = 1.5  # every Web API call takes 1.5 s from now on
    answer = await api.post(f"/api/v1/incidents/INC-1/{path}", token, body)
    assert answer.status == 200, answer.body
    assert len(await stored_timeline(api.tocsin, 1)) > 1  # stored before the answer
    assert sum(shown in m["text"] for m in channel.messages) == before  # Slack has not been told yet
    await settle(api.tocsin)
    assert sum(shown in m["text"] for m in channel.messages) == before + 1  # and then it is, once
