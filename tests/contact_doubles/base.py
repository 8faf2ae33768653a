"""What the HTTP doubles share: an aiohttp server on a free local port (`base_url`), started and stopped
or used as an async context manager, the requests it received, a one-shot failure switch, and a client
session for the callbacks the provider makes to Tocsin."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web


@dataclass
class Received:
    """One request as it arrived (its form or JSON body), and the status it was answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Callback:
    """One callback the double made to Tocsin: where, what it sent and what came back."""

    url: str
    form: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    content_type: str = ""
    text: str = ""
    error_code: int | None = None  # the provider's error for Tocsin's answer (Twilio: not TwiML), if any


class HttpDouble:
    """A provider's API served on 127.0.0.1 at `base_url` (no fixed port)."""

    def __init__(self) -> None:
        """Routes are added by subclasses; `start()` listens."""
        self.app = web.Application()
        self.base_url = ""
        self.received: list[Received] = []
        self.callbacks: list[Callback] = []
        self._failures: list[tuple[int, Any, dict[str, str]]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> Self:
        """Listen on a free local port."""
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start."""
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop."""
        await self.stop()

    def fail_with(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer the next API request `status` with this JSON body (queued: call again for the one after)."""
        self._failures.append((status, body, headers or {}))

    def failure(self, request: web.Request, body: Any) -> web.Response | None:
        """The queued failure for this request, if any (recorded)."""
        if not self._failures:
            return None
        status, answer, headers = self._failures.pop(0)
        return self.answer(request, body, answer, status=status, headers=headers)

    def answer(
        self, request: web.Request, body: Any, answer: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        """A JSON answer, recorded with the request it answers."""
        self.received.append(Received(request.method, request.path, dict(request.headers), body, status))
        return web.json_response(answer, status=status, headers=headers)

    async def post_form(self, callback: Callback) -> Callback:
        """POST a callback's form to Tocsin; the callback, with what Tocsin answered."""
        assert self._session is not None, "start() the double first"
        async with self._session.post(callback.url, data=callback.form, headers=callback.headers) as response:
            callback.status = response.status
            callback.content_type = response.content_type
            callback.text = await response.text()
        self.callbacks.append(callback)
        return callback

    def made(self, suffix: str = "") -> list[Received]:
        """The requests answered 2xx whose path ends with `suffix`."""
        return [r for r in self.received if r.path.endswith(suffix) and r.status < 300]
