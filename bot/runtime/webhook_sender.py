"""Sending outgoing webhooks over HTTP (the `WebhookSender` port of bot/usecases/webhooks.py).

One aiohttp session of its own, so receivers never share a connection pool (or its limits) with Slack.
Each request has a total timeout (TIMEOUT: connecting, sending and the answer's headers), follows no
redirect (a 3xx is the receiver's answer), reads no proxy settings from the environment, and connects to
no address that is link-local or a cloud metadata service's, whatever a name resolves to (the policy
refuses such IP literals; this catches a name pointing there, or repointed there later).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.domain.webhook_policy import forbidden_address
from bot.runtime.version import VERSION

TIMEOUT = 10.0  # seconds a try may take before it counts as failed (and is tried again later)
READ_AT_MOST = 64 * 1024  # of an answer's body (read so the connection can be reused; never kept)


class ForbiddenAddress(OSError):
    """A receiver's name resolved only to addresses webhooks are never sent to."""


class Unanswered(ConnectionError):
    """A try got no answer. Its message names the host at most: aiohttp's own (a timeout's, for one) may
    hold the whole URL, whose path or query may carry a token, and it is logged and stored."""


class PublicOnlyResolver(AbstractResolver):
    """A resolver that leaves out link-local and metadata addresses (and fails when nothing else is left)."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        """Filter what `inner` (aiohttp's default resolver unless given) answers."""
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of `host` that may be connected to."""
        found = await self._inner.resolve(host, port, family)
        allowed = [r for r in found if not forbidden_address(ipaddress.ip_address(r["host"].split("%", 1)[0]))]
        if not allowed:
            raise ForbiddenAddress(f"{host} resolves only to link-local or cloud metadata addresses")
        return allowed

    async def close(self) -> None:
        """Close the resolver underneath."""
        await self._inner.close()


class HttpWebhookSender:
    """POSTs signed webhooks; `close()` on shutdown."""

    def __init__(self, *, timeout: float = TIMEOUT, resolver: AbstractResolver | None = None) -> None:
        """Set up (the session itself is opened by the first send, inside the running loop)."""
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._public: PublicOnlyResolver | None = None
        self.user_agent = f"Tocsin/{VERSION}"

    def _open(self) -> aiohttp.ClientSession:
        # limit=0: each subscriber already sends at most 8 at once, and a slow receiver must never hold
        # connections another receiver waits for.
        self._public = PublicOnlyResolver(self._resolver)
        connector = aiohttp.TCPConnector(limit=0, resolver=self._public)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, headers={"User-Agent": self.user_agent}, trust_env=False
        )
        return self._session

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body`; the status answered. Unanswered on a timeout, a connection failure or a forbidden address."""
        session = self._session or self._open()
        try:
            async with session.post(url, data=body, headers=dict(headers), allow_redirects=False) as response:
                await response.content.read(READ_AT_MOST)
                return response.status
        except TimeoutError:
            raise Unanswered(f"no answer within {self._timeout.total:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            why = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
            raise Unanswered(f"could not connect to {exc.host}:{exc.port}: {why}") from None
        except aiohttp.ClientError as exc:
            raise Unanswered(f"the connection failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        """Close the session (and its connections); a later send opens a new one."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        if self._public is not None:
            public, self._public = self._public, None
            await public.close()
