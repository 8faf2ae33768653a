"""Signing in with Slack and out again, over HTTP: only through the state this browser started, only as a
member of the bot's own workspace, back to a page on this site only, and out only with the session's
CSRF token. The Slack double plays Slack's OpenID Connect side as Slack documents it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from bot.entrypoints.web import WebPages, WebSettings, add_web_routes
from tests.web.conftest import Reply, Site, WebClient


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def signed_in(client: WebClient) -> bool:
    """Whether the incident list shows rather than sending the browser to sign in."""
    page = await client.get("/", follow=False)
    return page.status == 200


async def walk_to_callback(client: WebClient, user: str = "U0ALICE", next_path: str = "/") -> Reply:
    """Sign in one redirect at a time; the callback's own answer."""
    client.site.double.oidc_user = user
    login = await client.get(f"/login?next={next_path}", follow=False)
    assert login.status == 302, login.text
    at_slack = await client.get(login.location, follow=False)
    assert at_slack.status == 302, at_slack.text
    return await client.get(at_slack.location, follow=False)


async def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(client: WebClient) -> None:
    first = await client.get("/follow-ups?state=done", follow=False)
    assert first.status == 302 and first.location.startswith("/login?")
    assert query_of(first.location) == {"next": "/follow-ups?state=done"}
    landed = await client.sign_in("U0ALICE", next_path="/follow-ups?state=done")
    assert landed.status == 200 and landed.url == client.site.url("/follow-ups?state=done")
    assert "Follow-ups" in landed.text and "Alice" in landed.text


async def test_login_sends_the_browser_to_slacks_authorize_url_with_a_state_and_nonce(client: WebClient) -> None:
    login = await client.get("/login", follow=False)
    assert login.status == 302
    assert login.location.startswith(f"{client.site.double.base_url}/openid/connect/authorize?")
    asked = query_of(login.location)
    assert asked["response_type"] == "code" and asked["scope"] == "openid profile email"
    assert asked["client_id"] == client.site.double.client_id and asked["team"] == client.site.double.team_id
    assert asked["redirect_uri"] == client.site.url("/login/callback")
    assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32 and asked["state"] != asked["nonce"]
    assert "scope=openid%20profile%20email" in login.location  # spaces as %20, as Slack documents the URL
    again = query_of((await client.get("/login", follow=False)).location)
    assert again["state"] != asked["state"] and again["nonce"] != asked["nonce"]


async def test_the_session_cookie_is_http_only_same_site_lax_and_ends_the_sign_in(client: WebClient) -> None:
    callback = await walk_to_callback(client, next_path="/stats")
    assert callback.status == 303 and callback.location == "/stats"
    session = next(c for c in callback.cookies if c.startswith("tocsin_session="))
    flags = {part.strip().split("=")[0].lower() for part in session.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= flags and "secure" not in flags  # PUBLIC_URL is http
    assert "SameSite=Lax" in session and "Max-Age=43200" in session
    ended = next(c for c in callback.cookies if c.startswith("tocsin_sign_in="))
    assert "Max-Age=0" in ended
    assert await signed_in(client)


@pytest.mark.parametrize(
    "next_path",
    ["//evil.example", "//evil.example/stats", "/\\evil.example", "https://evil.example/", "/\t/evil.example", "stats"],
)
async def test_a_next_that_leaves_the_site_is_refused(client: WebClient, next_path: str) -> None:
    landed = await client.sign_in("U0ALICE", next_path=next_path)
    assert landed.status == 200 and landed.url == client.site.url("/")


async def test_a_forged_state_is_refused_and_signs_nobody_in(client: WebClient) -> None:
    client.site.double.oidc_user = "U0ALICE"
    login = await client.get("/login", follow=False)
    at_slack = await client.get(login.location, follow=False)
    code = query_of(at_slack.location)["code"]
    forged = await client.get("/login/callback", follow=False, code=code, state="forged-by-an-attacker")
    assert forged.status == 400 and "does not match" in forged.text
    assert not any(c.startswith("tocsin_session=") and "Max-Age=0" not in c for c in forged.cookies)
    assert not await signed_in(client)
    # The state works once: after a refusal, even the right one is not accepted again.
    right = await client.get(at_slack.location, follow=False)
    assert right.status == 400 and not await signed_in(client)


async def test_a_callback_this_browser_did_not_start_is_refused(client: WebClient) -> None:
    page = await client.get("/login/callback", follow=False, code="x", state="y")
    assert page.status == 400 and "not started here" in page.text
    assert not await signed_in(client)


async def test_a_member_of_another_workspace_is_refused(client: WebClient) -> None:
    client.site.double.oidc_team = "T0ELSEWHERE"
    page = await client.sign_in("U0MALLORY")
    assert page.status == 403 and "another" in page.text
    assert not await signed_in(client)


async def test_cancelling_at_slack_signs_nobody_in(client: WebClient) -> None:
    page = await client.sign_in(None)
    assert page.status == 400 and "access_denied" in page.text
    assert not await signed_in(client)


async def test_a_code_is_exchanged_once(client: WebClient) -> None:
    client.site.double.oidc_user = "U0ALICE"
    login = await client.get("/login", follow=False)
    at_slack = await client.get(login.location, follow=False)
    assert (await client.get(at_slack.location, follow=False)).status == 303
    token_calls = client.site.double.calls_to("openid.connect.token")
    assert len(token_calls) == 1 and token_calls[0].args["redirect_uri"] == client.site.url("/login/callback")
    # The same code again, with a fresh sign-in's state: Slack refuses a used code.
    client.http.cookie_jar.clear(lambda cookie: cookie.key == "tocsin_session")
    fresh = await client.get("/login", follow=False)
    state = query_of(fresh.location)["state"]
    replay = await client.get("/login/callback", follow=False, code=query_of(at_slack.location)["code"], state=state)
    assert replay.status == 400 and "invalid_code" in replay.text


async def test_slack_refuses_a_redirect_url_the_app_does_not_list(client: WebClient) -> None:
    client.site.double.redirect_urls.clear()  # the manifest lacks {PUBLIC_URL}/login/callback
    page = await client.sign_in("U0ALICE")
    assert page.status == 400 and "bad_redirect_uri" in page.text
    assert not await signed_in(client)


async def test_a_client_secret_slack_does_not_know_is_said_plainly(client: WebClient) -> None:
    client.site.double.client_secret = "rotated-at-slack"
    page = await client.sign_in("U0ALICE")
    assert page.status == 502 and "bad_client_secret" in page.text and "administrator" in page.text
    assert not await signed_in(client)


async def test_without_its_settings_signing_in_says_which_are_missing(site: Site) -> None:
    app = web.Application()
    add_web_routes(app, WebPages.of(site.tocsin.deps, WebSettings(), workspace=lambda: site.double.team_id))
    async with TestClient(TestServer(app)) as http:
        for path in ("/login", "/incidents/INC-1"):
            page = await http.get(path)
            said = await page.text()
            assert page.status == 503, path
            assert "PUBLIC_URL, SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SESSION_SECRET" in said, path


async def test_signing_out_needs_the_sessions_csrf_token(client: WebClient) -> None:
    page = await client.sign_in("U0ALICE")
    token = client.csrf(page)
    refused = await client.post("/logout", {})
    assert refused.status == 403 and await signed_in(client)
    refused = await client.post("/logout", {"csrf": "not-the-token"})
    assert refused.status == 403 and await signed_in(client)
    elsewhere = await client.post("/logout", {"csrf": token}, headers={"Origin": "https://evil.example"})
    assert elsewhere.status == 403 and await signed_in(client)
    out = await client.post("/logout", {"csrf": token}, headers={"Origin": client.site.base})
    assert out.status == 200 and "signed out" in out.text
    assert not await signed_in(client)


async def test_a_tampered_session_cookie_signs_nobody_in(client: WebClient) -> None:
    await client.sign_in("U0ALICE")
    jar = client.http.cookie_jar
    cookie = next(c for c in jar if c.key == "tocsin_session")
    value = cookie.value
    tampered = value[:-6] + ("AAAAAA" if not value.endswith("AAAAAA") else "BBBBBB")
    jar.update_cookies({"tocsin_session": tampered}, response_url=URL(client.site.base))
    assert not await signed_in(client)


async def test_every_page_carries_the_security_headers(client: WebClient) -> None:
    await client.sign_in("U0ALICE")
    for path in ("/", "/login/callback", "/static/tocsin.css", "/incidents/INC-99"):
        page = await client.get(path, follow=False)
        csp = page.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, path
        assert page.headers.get("X-Content-Type-Options") == "nosniff", path
        assert page.headers.get("Referrer-Policy") == "same-origin", path
    assert (await client.get("/", follow=False)).headers.get("Cache-Control") == "no-store"
