"""Atlassian Statuspage's REST API over HTTP (the `StatuspageApi` port of bot/usecases/status_mirror.py).

One aiohttp session of its own (Statuspage never shares a connection pool, or its limits, with Slack),
a total timeout per request, no redirects followed, no proxy settings read from the environment. The API
key goes only into the `Authorization: OAuth <key>` header, and no message of this module ever holds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.runtime.version import VERSION

TIMEOUT = 10.0  # seconds a request may take before it counts as unanswered (and is tried again later)
READ_AT_MOST = 256 * 1024  # of an answer's body


class Unanswered(ConnectionError):
    """A request got no answer (its message names the host at most, never the key)."""


class HttpStatuspage:
    """Sends Statuspage API requests; `close()` on shutdown."""

    def __init__(self, *, timeout: float = TIMEOUT) -> None:
        """Set up (the session is opened by the first call, inside the running loop)."""
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def call(
        self, method: str, url: str, *, api_key: str, body: Mapping[str, Any]
    ) -> tuple[int, Any, float | None]:
        """Send `body` as JSON; the answer's status, its JSON body (None if not JSON) and its Retry-After
        in seconds (None without one). Unanswered on a timeout or a connection failure."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"User-Agent": f"Tocsin/{VERSION}"}, trust_env=False
            )
        headers = {"Authorization": f"OAuth {api_key}", "Content-Type": "application/json"}
        try:
            async with self._session.request(
                method, url, data=json.dumps(body).encode(), headers=headers, allow_redirects=False
            ) as response:
                raw = await response.content.read(READ_AT_MOST)
                return response.status, _json(raw), _seconds(response.headers.get("Retry-After"))
        except TimeoutError:
            raise Unanswered(f"no answer within {self._timeout.total:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise Unanswered(f"could not connect to {exc.host}:{exc.port}") from None
        except aiohttp.ClientError as exc:
            raise Unanswered(f"the connection failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        """Close the session; a later call opens a new one."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (only the delay form; an HTTP date is treated as absent)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
