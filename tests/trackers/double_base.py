"""What every tracker double shares: an aiohttp server on a free local port, an outage switch (every API
call answered with a status, as the tracker's own trouble would be), the calls it received, and sending
webhooks to Tocsin (kept, so a test can deliver one again, or out of order)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Delivery:
    """One webhook the double made: where it went, its headers and body, and what Tocsin answered."""

    url: str
    headers: dict[str, str]
    body: bytes
    statuses: list[int] = field(default_factory=list)


@dataclass
class Call:
    """An API call the double received (after its auth check), with its JSON body or query."""

    method: str
    path: str
    body: Any
    status: int


class TrackerDouble:
    """A tracker's API at `url`; `webhook_url` is where it sends its webhooks (Tocsin's route)."""

    def __init__(self) -> None:
        """Set up the server; `start()` listens."""
        self.app = web.Application(middlewares=[self._outage_middleware])
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.webhook_url = ""
        self.outage_status: int | None = None  # the outage switch: answer every API call with this
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> Self:
        """Listen on a free local port."""
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._session is not None:
            await self._session.close()
        if self.runner is not None:
            await self.runner.cleanup()

    def outage(self, status: int | None = 500) -> None:
        """Answer every API call with `status` from now on (None: answer normally again)."""
        self.outage_status = status

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The tracker's documented error shape."""
        return {"message": message}

    @web.middleware
    async def _outage_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.outage_status is not None:
            self.calls.append(Call(request.method, request.path, None, self.outage_status))
            return web.json_response(self.error_body(self.outage_status, "Server Error"), status=self.outage_status)
        return await handler(request)

    def made(self, method: str, suffix: str = "") -> list[Call]:
        """The calls of `method` whose path ends with `suffix` (answered 2xx)."""
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix) and c.status < 300]

    async def send(self, delivery: Delivery) -> int:
        """POST a webhook (again) to Tocsin; the status it answered."""
        assert self._session is not None
        self.deliveries.append(delivery) if delivery not in self.deliveries else None
        async with self._session.post(delivery.url, data=delivery.body, headers=delivery.headers) as response:
            delivery.statuses.append(response.status)
            return response.status
