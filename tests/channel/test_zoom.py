"""Zoom's Server-to-Server OAuth client against a double that enforces Zoom's API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.runtime.zoom import ZoomCredentials, ZoomError, ZoomMeetings
from tests.zoom_double import ZoomDouble


@pytest.fixture
async def zoom() -> AsyncIterator[ZoomDouble]:
    double = await ZoomDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def client(zoom: ZoomDouble, session: aiohttp.ClientSession, *, secret: str | None = None) -> ZoomMeetings:
    credentials = ZoomCredentials(zoom.account_id, zoom.client_id, secret or zoom.client_secret)
    return ZoomMeetings(session, credentials, api_url=zoom.base_url, oauth_url=zoom.base_url)


async def test_meetings_are_made_with_one_cached_token(zoom: ZoomDouble, session: aiohttp.ClientSession) -> None:
    meetings = client(zoom, session)
    first = await meetings.create_meeting("INC-1: Checkout errors")
    second = await meetings.create_meeting("INC-2: Search down")
    assert first != second and first.startswith(zoom.base_url + "/j/")
    assert zoom.tokens_issued() == 1
    token = next(r for r in zoom.requests if r.path == "/oauth/token")
    assert token.query == {"grant_type": "account_credentials", "account_id": zoom.account_id}
    assert token.authorization is not None and token.authorization.startswith("Basic ")
    made = [r for r in zoom.requests if r.path == "/v2/users/me/meetings"]
    assert all(r.authorization and r.authorization.startswith("Bearer ") for r in made)
    assert [m["topic"] for m in zoom.meetings] == ["INC-1: Checkout errors", "INC-2: Search down"]


async def test_an_expired_token_is_replaced_once(zoom: ZoomDouble, session: aiohttp.ClientSession) -> None:
    meetings = client(zoom, session)
    await meetings.create_meeting("INC-1")
    zoom.expire_tokens()
    assert await meetings.create_meeting("INC-2")
    assert zoom.tokens_issued() == 2
    assert [r.status for r in zoom.requests if r.path.endswith("/meetings")] == [201, 401, 201]


async def test_wrong_credentials_are_refused_without_showing_them(
    zoom: ZoomDouble, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ZoomError) as refused:
        await client(zoom, session, secret="wrong-secret-value").create_meeting("INC-1")
    assert "Invalid client_id or client_secret" in str(refused.value) and not refused.value.retryable
    assert "wrong-secret-value" not in str(refused.value) and "wrong-secret-value" not in repr(
        ZoomCredentials("a", "b", "wrong-secret-value")
    )


async def test_a_rate_limit_or_an_outage_is_worth_trying_later(
    zoom: ZoomDouble, session: aiohttp.ClientSession
) -> None:
    meetings = client(zoom, session)
    zoom.fail(429)
    with pytest.raises(ZoomError) as limited:
        await meetings.create_meeting("INC-1")
    assert limited.value.retryable and limited.value.status == 429 and "try again in 2s" in str(limited.value)
    zoom.fail(500)
    with pytest.raises(ZoomError) as broken:
        await meetings.create_meeting("INC-1")
    assert broken.value.retryable
    assert await meetings.create_meeting("INC-1")


async def test_no_answer_is_worth_trying_later(session: aiohttp.ClientSession) -> None:
    credentials = ZoomCredentials("a", "b", "c")
    meetings = ZoomMeetings(session, credentials, api_url="http://127.0.0.1:9", oauth_url="http://127.0.0.1:9")
    with pytest.raises(ZoomError) as unreachable:
        await meetings.create_meeting("INC-1")
    assert unreachable.value.retryable
