"""Every refusal is an RFC 9457 problem (application/problem+json: type, title, status, detail) with the
status its cause calls for: 400 malformed, 401 no or bad token, 403 scope or permission, 404 unknown,
409 conflict, 413 too large, 422 invalid, 429 over the rate limit (with Retry-After), 503 not ready."""

from __future__ import annotations

import asyncio

from tests.api.conftest import EVERY_SCOPE, READER, Api, OpenApi, granting_policy
from tests.faults.tcp_proxy import TcpProxy

DECLARE = "/api/v1/incidents"


async def test_no_token_or_a_bad_one_is_401_with_a_bearer_challenge(api: Api) -> None:
    missing = await api.call("GET", DECLARE)
    missing.problem(401)
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="tocsin"'
    for header in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer  ", "Token abc"):
        (await api.call("GET", DECLARE, headers={"Authorization": header})).problem(401)
    wrong = await api.call("GET", DECLARE, token="tocsin_" + "x" * 43)
    wrong.problem(401)
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    token = await api.token("soon-gone", *READER)
    assert (await api.get(DECLARE, token)).status == 200
    await api.tocsin.deps.api_tokens.revoke("soon-gone")
    (await api.get(DECLARE, token)).problem(401)


async def test_a_missing_scope_or_permission_is_403(api: Api) -> None:
    reader = await api.token("reader", *READER)
    assert (
        "incidents:write"
        in (await api.post(DECLARE, reader, {"title": "x", "severity": "SEV2"})).problem(403)["detail"]
    )
    writer = await api.token("writer", *EVERY_SCOPE)
    await api.declare(writer, "Checkout errors")
    # The default policy lets the Incident Commander, the comms lead and admins change the status: not a token.
    refused = await api.post("/api/v1/incidents/INC-1/status", writer, {"status": "identified"})
    assert "Incident Commander" in refused.problem(403)["detail"]
    (await api.post("/api/v1/incidents/INC-1/resolve", writer, {})).problem(403)


async def test_unknown_things_are_404(api: Api) -> None:
    token = await api.token("writer", *EVERY_SCOPE)
    for path in ("/api/v1/incidents/INC-42", "/api/v1/incidents/42/timeline", "/api/v1/incidents/abc"):
        (await api.get(path, token)).problem(404)
    (await api.get("/api/v1/incidents/INC-99999999999", token)).problem(404)
    (await api.post("/api/v1/follow-ups/12345/done", token, {})).problem(404)
    (await api.post("/api/v1/follow-ups/99999999999999/done", token, {})).problem(404)


async def test_what_clashes_with_the_state_of_things_is_409(open_api: OpenApi, sqlite_url: str) -> None:
    api = await open_api(sqlite_url, granting_policy())
    token = await api.token("writer", *EVERY_SCOPE)
    await api.declare(token, "Checkout errors")
    assert (await api.post("/api/v1/incidents/INC-1/resolve", token, {"summary": "Fixed"})).status == 200
    assert "resolved" in (await api.post("/api/v1/incidents/INC-1/resolve", token, {})).problem(409)["detail"]
    (await api.post("/api/v1/incidents/INC-1/status", token, {"status": "identified"})).problem(409)
    (await api.post("/api/v1/incidents/INC-1/severity", token, {"severity": "SEV2"})).problem(409)
    first = await api.post(DECLARE, token, {"title": "Search down", "severity": "SEV2"}, **{"Idempotency-Key": "k1"})
    assert first.status == 201
    other = await api.post(DECLARE, token, {"title": "Search up", "severity": "SEV2"}, **{"Idempotency-Key": "k1"})
    assert "Idempotency-Key" in other.problem(409)["detail"]
    item = await api.post("/api/v1/incidents/INC-2/follow-ups", token, {"text": "Alert on it"})
    assert (await api.post(f"/api/v1/follow-ups/{item.body['id']}/done", token, {})).status == 200
    (await api.post(f"/api/v1/follow-ups/{item.body['id']}/done", token, {})).problem(409)


async def test_a_body_over_a_mebibyte_is_413(api: Api) -> None:
    token = await api.token("writer", *EVERY_SCOPE)
    huge = b'{"title": "' + b"x" * (1024 * 1024) + b'", "severity": "SEV2"}'
    (await api.call("POST", DECLARE, token=token, raw=huge)).problem(413)


async def test_well_formed_but_invalid_is_422_naming_the_field(api: Api) -> None:
    token = await api.token("writer", *EVERY_SCOPE)
    for body in (
        {"title": "Checkout errors", "severity": "SEV9"},
        {"title": "   ", "severity": "SEV2"},
        {"title": "", "severity": "SEV2"},
        {"title": "x" * 121, "severity": "SEV2"},
        {"title": "Nul \u0000 in it", "severity": "SEV2"},
        {"title": "Half a pair \ud800", "severity": "SEV2"},
        {"title": "Checkout errors", "severity": "SEV2", "colour": "red"},
        {"title": "Checkout errors", "severity": "SEV2", "service": "nowhere"},
        {"title": 42, "severity": "SEV2"},
        ["not", "an", "object"],
    ):
        (await api.post(DECLARE, token, body)).problem(422)
    missing = (await api.post(DECLARE, token, {"severity": "SEV2"})).problem(422)
    assert missing["errors"][0]["location"] == "body.title"
    await api.declare(token, "Checkout errors")
    for path, body in (
        ("follow-ups", {"text": "Alert", "due_on": "2001-01-01"}),
        ("follow-ups", {"text": "Alert", "owner": "bob"}),
        ("updates", {"text": "Later", "next_update_at": "2001-01-01T00:00:00Z"}),
        ("updates", {"text": "Later", "next_update_at": "2999-01-01T00:00:00Z"}),
        ("follow-ups", {"text": "Alert", "due_on": "9999-12-31"}),
        ("updates", {"text": "  "}),
        ("status", {"status": "resolved"}),
    ):
        (await api.post(f"/api/v1/incidents/INC-1/{path}", token, body)).problem(422)


async def test_malformed_requests_are_400(api: Api) -> None:
    token = await api.token("writer", *EVERY_SCOPE)
    for raw in (b"{not json", b"", b'{"title": NaN}', b"\xff\xfe", b"[" * 100_000):
        (await api.call("POST", DECLARE, token=token, raw=raw)).problem(400)
    for params in (
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "many"},
        {"limit": "1" + "0" * 40},
        {"sort": "title"},
        {"status": "sleeping"},
        {"declared_after": "yesterday"},
        {"declared_after": "0001-01-01T00:00:00+05:00"},
        {"resolved_before": "9999-12-31T23:59:59Z"},
        {"q": "nul \u0000"},
        {"cursor": "not a cursor"},
        {"cursor": "eyJzb3J0IjoibnVtYmVyIiwidmFsdWUiOjEsImlkIjoxfQ"},  # made for sort=number
    ):
        answer = await api.call("GET", DECLARE, token=token, params=params)
        assert answer.problem(400)["errors"] if "cursor" not in params else answer.problem(400)
    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):  # the calendar's ends: handoffs would overflow
        (await api.get("/api/v1/oncall", token, at=at)).problem(400)
    twice = await api.call("GET", DECLARE + "?limit=1&limit=2", token=token)
    twice.problem(400)
    bad_key = await api.post(DECLARE, token, {"title": "x", "severity": "SEV2"}, **{"Idempotency-Key": "a b"})
    bad_key.problem(400)


async def test_over_the_rate_limit_is_429_with_retry_after(open_api: OpenApi, sqlite_url: str) -> None:
    api = await open_api(sqlite_url, api_rate_limit=0.5, api_rate_burst=3)
    busy, other = await api.token("busy", *READER), await api.token("other", *READER)
    answers = await asyncio.gather(*(api.get(DECLARE, busy) for _ in range(5)))
    assert sorted(a.status for a in answers) == [200, 200, 200, 429, 429]
    limited = next(a for a in answers if a.status == 429)
    limited.problem(429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 2
    assert (await api.get(DECLARE, other)).status == 200  # a bucket per token


async def test_before_slack_has_named_the_workspace_it_is_503(api: Api) -> None:
    token = await api.token("reader", *READER)
    known = api.tocsin.identity.team_id
    api.tocsin.identity.team_id = None
    try:
        unready = await api.get(DECLARE, token)
    finally:
        api.tocsin.identity.team_id = known
    unready.problem(503)
    assert unready.headers["Retry-After"].isdigit()


async def test_a_database_that_is_away_is_503_with_retry_after(
    open_api: OpenApi, proxied: tuple[str, TcpProxy]
) -> None:
    url, proxy = proxied
    api = await open_api(url)
    token = await api.token("reader", *READER)
    assert (await api.get(DECLARE, token)).status == 200
    await proxy.cut()
    try:
        away = await asyncio.wait_for(api.get(DECLARE, token), timeout=60)
    finally:
        await proxy.restore()
    away.problem(503)
    assert away.headers["Retry-After"].isdigit()
    assert (await api.get(DECLARE, token)).status == 200
