"""Tocsin's side of a provider's callbacks, for the client tests: a local aiohttp server that records each
request (the URL it was made to, its form and headers) and answers what the test's `reply` says."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Arrival:
    """One request the receiver got."""

    method: str
    url: str
    form: dict[str, str]
    headers: dict[str, str]


Reply = Callable[[Arrival], Awaitable[web.Response]]


async def _no_content(arrival: Arrival) -> web.Response:
    return web.Response(status=204)


@dataclass
class Receiver:
    """Records arrivals at `base_url`; `reply` makes each answer."""

    base_url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    reply: Reply = _no_content

    def url(self, path: str) -> str:
        """The absolute URL of `path` here."""
        return self.base_url + path

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request and answer it."""
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        arrival = Arrival(request.method, str(request.url), form, dict(request.headers))
        self.arrivals.append(arrival)
        return await self.reply(arrival)


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on a free local port (any path, any method)."""
    made = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", made.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    made.base_url = f"http://127.0.0.1:{port}"
    try:
        yield made
    finally:
        await runner.cleanup()
