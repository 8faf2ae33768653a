"""A webhook receiver double: an aiohttp server that checks every request as a real Standard Webhooks
receiver does (standardwebhooks' `Webhook.verify`, the reference implementation: headers present, the
timestamp within 5 minutes, the signature over `id.timestamp.body`) and answers a bad one 401. It records
every try, and each event it accepted once (a repeat of an accepted `webhook-id` is acknowledged, not
recorded again, as a receiver deduplicating on it would). Tests make it misbehave for a while: `answer`
makes it answer a status without looking at the request (a receiver whose proxy says 500, 429, or a
redirect), `stall` holds every request unanswered until `recover` (a hung receiver: the sender's timeout
runs out, or, with a long timeout, a slow one).

`clock`: the time the receiver checks timestamps against (the test's fake clock), else the real one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from unittest import mock

import standardwebhooks.webhooks
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Attempt:
    """One request as it arrived, and what it was answered (None while it is held)."""

    id: str | None
    timestamp: str | None
    signature: str | None
    user_agent: str | None
    content_type: str | None
    body: bytes
    status: int | None = None


@contextmanager
def _reading(clock: Callable[[], datetime] | None) -> Iterator[None]:
    """The reference verifier, checking timestamps against `clock` (it reads `datetime.now` itself). The
    verification is synchronous, so nothing else runs while the clock is swapped."""
    if clock is None:
        yield
        return
    now = clock()

    class _At(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> _At:
            moment = now.astimezone(tz) if tz is not None else now
            return cls.fromtimestamp(moment.timestamp(), tz=moment.tzinfo)

    with mock.patch.object(standardwebhooks.webhooks, "datetime", _At):
        yield


class WebhookReceiver:
    """A receiver at `url` verifying with `secret`; `delivered` holds the events it accepted, in order."""

    def __init__(self, secret: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.secret = secret
        self.clock = clock
        self.attempts: list[Attempt] = []
        self.delivered: list[dict[str, Any]] = []
        self.repeats = 0  # accepted events sent again (the same webhook-id)
        self.refused: list[str] = []  # why each request answered 401 was refused
        self.url = ""
        self._answer: int | None = None
        self._released = asyncio.Event()
        self._released.set()
        self._runner: web.AppRunner | None = None

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hooks/tocsin", self._receive)
        app.router.add_route("*", "/followed", self._followed)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hooks/tocsin"
        return self

    async def stop(self) -> None:
        self._released.set()  # let held requests finish
        if self._runner is not None:
            await self._runner.cleanup()

    # ----- what the test makes it do ----------------------------------------------------------------
    def answer(self, status: int) -> None:
        """From now on answer every request `status`, unread (until `recover`)."""
        self._answer = status

    def stall(self) -> None:
        """From now on hold every request unanswered (until `recover`)."""
        self._released.clear()

    def recover(self) -> None:
        """Check and accept requests again (held ones included)."""
        self._answer = None
        self._released.set()

    @property
    def held(self) -> int:
        """Requests waiting unanswered now."""
        return sum(1 for a in self.attempts if a.status is None)

    def ids(self) -> list[str]:
        """The ids of the accepted events, in the order they were accepted."""
        return [str(event["id"]) for event in self.delivered]

    # ----- the server -------------------------------------------------------------------------------
    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        attempt = Attempt(
            headers.get("webhook-id"),
            headers.get("webhook-timestamp"),
            headers.get("webhook-signature"),
            headers.get("User-Agent"),
            headers.get("Content-Type"),
            body,
        )
        self.attempts.append(attempt)
        try:
            await self._released.wait()
        except asyncio.CancelledError:  # the sender gave up and the server was told to stop waiting
            attempt.status = 0
            raise
        response = self._respond(body, dict(headers))
        attempt.status = response.status
        return response

    def _respond(self, body: bytes, headers: dict[str, str]) -> web.Response:
        if self._answer is not None:
            extra = {"Location": self.url.replace("/hooks/tocsin", "/followed")} if 300 <= self._answer < 400 else {}
            return web.Response(status=self._answer, headers=extra, text="not now")
        try:
            with _reading(self.clock):
                event = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return web.Response(status=401, text=str(exc))
        if any(seen["id"] == event["id"] for seen in self.delivered):
            self.repeats += 1
        else:
            self.delivered.append(event)
        return web.Response(status=200, text="ok")

    async def _followed(self, request: web.Request) -> web.Response:
        self.attempts.append(Attempt(None, None, None, None, None, b"followed a redirect", 200))
        return web.Response(status=200)
