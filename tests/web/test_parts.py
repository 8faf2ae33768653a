"""The web pages' parts without a server: the session and sign-in cookies (sealed, expiring, each under
its own key), where a sign-in may return to, the authorize URL, reading an ID token, Slack references in
stored text, and the severity style sheet (only colours reach it)."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.domain.policy import Policy
from bot.entrypoints.web.config import WebSettings
from bot.entrypoints.web.next_path import safe_next
from bot.entrypoints.web.render import mentioned, slack_parts
from bot.entrypoints.web.routes import severity_css
from bot.entrypoints.web.sessions import LOGIN_LIFETIME, SESSION_LIFETIME, Cookies
from bot.entrypoints.web.slack_sign_in import SignInFailed, id_token_claims
from tests.conftest import FakeClock

SECRET = "a-session-secret-for-these-tests-0123456789"


def cookie_set(response: web.StreamResponse, name: str) -> str:
    return response.cookies[name].value


def request_with(**cookies: str) -> web.Request:
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return make_mocked_request("GET", "/", headers={"Cookie": header} if header else {})


def test_a_session_reads_back_for_twelve_hours(clock: FakeClock) -> None:
    cookies = Cookies(SECRET, secure=False, clock=clock)
    response = web.Response()
    started = cookies.start_session(response, user_id="U0ALICE", team_id="T0TOCSIN", name="Alice")
    sealed = cookie_set(response, "tocsin_session")
    assert "U0ALICE" not in sealed and "Alice" not in sealed  # encrypted, not merely signed
    read = cookies.session(request_with(tocsin_session=sealed))
    assert read == started and read is not None and read.accepts(started.csrf) and not read.accepts("other")
    clock.advance(seconds=SESSION_LIFETIME.total_seconds() - 1)
    assert cookies.session(request_with(tocsin_session=sealed)) is not None
    clock.advance(seconds=2)
    assert cookies.session(request_with(tocsin_session=sealed)) is None


def test_a_cookie_sealed_under_another_secret_or_for_another_purpose_is_refused(clock: FakeClock) -> None:
    mine, theirs = Cookies(SECRET, secure=False, clock=clock), Cookies(SECRET + "x", secure=False, clock=clock)
    response = web.Response()
    theirs.start_session(response, user_id="U0ALICE", team_id="T0TOCSIN", name="Alice")
    assert mine.session(request_with(tocsin_session=cookie_set(response, "tocsin_session"))) is None
    attempt = mine.new_sign_in(next_path="/stats")
    signing_in = web.Response()
    mine.keep_sign_in(signing_in, attempt)
    sealed = cookie_set(signing_in, "tocsin_sign_in")
    assert mine.sign_in(request_with(tocsin_sign_in=sealed)) == attempt
    assert mine.session(request_with(tocsin_session=sealed)) is None  # a sign-in is no session
    clock.advance(seconds=LOGIN_LIFETIME.total_seconds() + 1)
    assert mine.sign_in(request_with(tocsin_sign_in=sealed)) is None
    assert mine.session(request_with(tocsin_session="x" * 5000)) is None


def test_over_https_the_cookies_are_secure_and_host_only(clock: FakeClock) -> None:
    cookies = Cookies(SECRET, secure=True, clock=clock)
    response = web.Response()
    cookies.start_session(response, user_id="U0ALICE", team_id="T0TOCSIN", name="Alice")
    morsel = response.cookies["__Host-tocsin_session"]
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["path"] == "/"
    assert not morsel["domain"] and morsel["max-age"] == str(int(SESSION_LIFETIME.total_seconds()))


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/incidents/INC-4", "/incidents/INC-4"),
        ("/?status=open&q=db", "/?status=open&q=db"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\\/evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        (" /stats", "/"),
        ("evil.example", "/"),
        ("/" + "a" * 2000, "/"),
    ],
)
def test_after_signing_in_the_browser_goes_only_to_a_page_on_this_site(asked: str | None, goes_to: str) -> None:
    assert safe_next(asked) == goes_to


def test_the_authorize_url_is_slacks_with_every_parameter() -> None:
    settings = WebSettings("https://tocsin.example.com/", "https://slack.com", "123.456", "s", "k")
    url = settings.authorize_url(state="st", nonce="no", team_id="T1")
    assert url == (
        "https://slack.com/openid/connect/authorize?response_type=code&scope=openid%20profile%20email"
        "&client_id=123.456&state=st&nonce=no"
        "&redirect_uri=https%3A%2F%2Ftocsin.example.com%2Flogin%2Fcallback&team=T1"
    )
    assert settings.secure and settings.origin == "https://tocsin.example.com" and settings.missing == []
    assert WebSettings().missing == ["PUBLIC_URL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SESSION_SECRET"]
    assert "hush" not in repr(WebSettings(client_secret="hush", session_secret="hush"))  # secrets stay out of logs


def test_an_id_token_is_read_and_anything_else_refused() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"aud": "1.2", "nonce": "n"}).encode()).decode().rstrip("=")
    assert id_token_claims(f"e30.{payload}.sig") == {"aud": "1.2", "nonce": "n"}
    for token in ("", "a.b", "a.!!!.c", f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c"):
        with pytest.raises(SignInFailed):
            id_token_claims(token)


def test_slack_references_in_stored_text_become_pieces_never_markup() -> None:
    text = "IC: <@U0BOB> (from <@U0ALICE|alice>) in <#C0123|ops>, <!here> <img src=x onerror=alert(1)>"
    assert slack_parts(text) == [
        ("text", "IC: "),
        ("user", "U0BOB"),
        ("text", " (from "),
        ("user", "U0ALICE"),
        ("text", ") in "),
        ("ref", "#ops"),
        ("text", ", "),
        ("ref", "@here"),
        ("text", " <img src=x onerror=alert(1)>"),
    ]
    assert mentioned([text, "nobody"]) == {"U0BOB", "U0ALICE"}


def test_only_colours_reach_the_severity_style_sheet() -> None:
    policy = Policy.model_validate(
        {
            "default_severity": "SEV2",
            "severities": [
                {"name": "SEV1", "colour": "#E01E5A"},
                {"name": "SEV2", "colour": "red; } body { display: none"},
                {"name": "SEV3", "colour": "#abc</style>"},
            ],
        }
    )
    assert severity_css(policy) == ".sev-1 { background: #E01E5A; }\n"
