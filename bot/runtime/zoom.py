"""Zoom meetings through Zoom's Server-to-Server OAuth API: an account-credentials token, cached until it
expires, and `POST /v2/users/{host}/meetings` with it.

The token request is `POST {oauth_url}/oauth/token?grant_type=account_credentials&account_id=…` with HTTP
Basic client_id:client_secret; Zoom answers `{access_token, token_type, expires_in}` (an hour). A call
refused for an expired or invalid token (401, `{code: 124, message}`) gets one fresh token and one more
try. A 429 carries Retry-After (or Zoom's X-RateLimit headers); 429 and 5xx are worth trying later. No
message of this module holds a secret or a token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10.0)
EXPIRY_MARGIN = 60.0  # seconds before Zoom's expiry that a cached token is given up
INVALID_TOKEN = 124  # Zoom's code for an invalid or expired access token
READ_AT_MOST = 64 * 1024


class ZoomError(Exception):
    """Zoom refused or did not answer; `retryable` when trying later may work (429, 5xx, no answer)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        """What went wrong, in words safe to log and show."""
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.error = f"zoom {status}" if status is not None else "zoom unreachable"


@dataclass(frozen=True)
class ZoomCredentials:
    """The Server-to-Server OAuth app's account ID, client ID and client secret."""

    account_id: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        """Never the secret."""
        return f"ZoomCredentials(account_id={self.account_id!r}, client_id={self.client_id!r})"


class ZoomMeetings:
    """Makes Zoom meetings for incidents (the port bot/usecases/channel_ports.MeetingMaker)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: ZoomCredentials,
        *,
        api_url: str = "https://api.zoom.us",
        oauth_url: str = "https://zoom.us",
        host: str = "me",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Use `session` (the process's) against `api_url`/`oauth_url` (a regional or test endpoint)."""
        self._session = session
        self._credentials = credentials
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url.rstrip("/")
        self._host = host
        self._monotonic = monotonic
        self._token: tuple[str, float] | None = None  # (token, good until)
        self._lock = asyncio.Lock()

    async def create_meeting(self, topic: str) -> str:
        """A new meeting about `topic`; its join URL."""
        for attempt in (1, 2):
            token = await self._access_token(fresh=attempt == 2)
            status, body, retry_after = await self._call(
                "POST",
                f"{self._api_url}/v2/users/{self._host}/meetings",
                headers={"Authorization": f"Bearer {token}"},
                json_body={"topic": topic[:200], "type": 1, "settings": {"join_before_host": True}},
            )
            if status == 401 and _code(body) == INVALID_TOKEN and attempt == 1:
                continue  # expired under us: one fresh token, one more try
            if status in (200, 201) and isinstance(body, dict) and isinstance(body.get("join_url"), str):
                return str(body["join_url"])
            raise _refused("meeting", status, body, retry_after)
        raise ZoomError("Zoom refused a fresh token", status=401)  # pragma: no cover - the loop returns or raises

    async def _access_token(self, *, fresh: bool) -> str:
        async with self._lock:
            if self._token is not None and not fresh and self._monotonic() < self._token[1]:
                return self._token[0]
            pair = f"{self._credentials.client_id}:{self._credentials.client_secret}".encode()
            status, body, retry_after = await self._call(
                "POST",
                f"{self._oauth_url}/oauth/token",
                headers={"Authorization": f"Basic {base64.b64encode(pair).decode()}"},
                params={"grant_type": "account_credentials", "account_id": self._credentials.account_id},
            )
            if status != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
                raise _refused("token", status, body, retry_after)
            lifetime = float(body.get("expires_in") or 3600)
            self._token = (body["access_token"], self._monotonic() + max(0.0, lifetime - EXPIRY_MARGIN))
            return self._token[0]

    async def _call(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> tuple[int, Any, float | None]:
        try:
            async with self._session.request(
                method, url, headers=headers, params=params, json=json_body, timeout=TIMEOUT, allow_redirects=False
            ) as response:
                raw = await response.content.read(READ_AT_MOST)
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                return response.status, body, _retry_after(response.headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ZoomError(f"Zoom did not answer ({type(exc).__name__})", retryable=True) from None


def _code(body: Any) -> int | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def _refused(what: str, status: int, body: Any, retry_after: float | None) -> ZoomError:
    """Zoom's refusal in words: its `message` (API) or `reason` (OAuth), never a credential."""
    said = ""
    if isinstance(body, dict):
        said = str(body.get("message") or body.get("reason") or body.get("error") or "")[:200]
    later = f"; try again in {retry_after:g}s" if retry_after is not None else ""
    retryable = status == 429 or status >= 500
    return ZoomError(
        f"Zoom refused the {what} ({status}{': ' + said if said else ''}{later})", status=status, retryable=retryable
    )


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
