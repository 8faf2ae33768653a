"""Start-up that neither hangs nor spins: the database and Slack are waited for with capped exponential
backoff and jitter (the database with one line per attempt, Slack with one line per outage); what can
never work (a refused token, wrong credentials, a missing database) stops start-up with one line naming
the setting."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ConfigError
from bot.runtime.slack_status import SlackStatus
from bot.settings import redact_url

log = logging.getLogger(__name__)

FIRST_DELAY = 0.5
MAX_DELAY = 15.0


def delays(first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    """Seconds to wait before each next attempt: doubling up to `cap`, each with jitter (50 to 100%)."""
    delay = first
    while True:
        yield delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        delay = min(delay * 2, cap)


def database_tls_problem(exc: BaseException) -> str | None:
    """Why TLS failed, when it did: a setting to fix (sslmode, sslrootcert), never an outage to wait out."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return database_tls_problem(exc.orig.__cause__ or exc.orig)
    if isinstance(exc, ConnectionError) and "rejected SSL upgrade" in str(exc):
        return (
            f"the server refused TLS ({_first_line(exc)}); sslmode=require and verify-ca/verify-full need a "
            "server with ssl on (sslmode=prefer falls back to an unencrypted connection)"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = (exc.verify_message or exc.reason or "").rstrip(".")
        return (
            f"the server's TLS certificate failed verification ({reason}); sslrootcert must be the CA that "
            "signed it, and with verify-full the URL's host a name it holds"
        )
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, ssl.SSLEOFError | ssl.SSLSyscallError):
        return f"the TLS handshake failed ({exc.reason or _first_line(exc)}); check sslmode and the ssl* parameters"
    return None


def database_unreachable(exc: BaseException) -> bool:
    """Whether connecting failed because the database cannot be reached (yet), not because it refused us."""
    if isinstance(exc, OSError | TimeoutError):
        return True
    name = type(exc).__name__
    if name in ("CannotConnectNowError", "TooManyConnectionsError", "ConnectionDoesNotExistError"):
        return True  # PostgreSQL starting up, full, or gone mid-handshake
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return database_unreachable(exc.orig.__cause__ or exc.orig)
    return False


async def wait_for_database(
    engine: AsyncEngine,
    url: str,
    *,
    within: float,
    ready: Callable[[AsyncEngine], Awaitable[Any]],
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run `ready(engine)` (migrate, say) until it works; retry while the database is unreachable, for up
    to `within` seconds. ConfigError, one line, when it never answers or refuses us."""
    _sqlite_folder_exists(url)
    deadline = clock() + within
    waits = delays()
    while True:
        try:
            await ready(engine)
            return
        except Exception as exc:
            if tls := database_tls_problem(exc):
                raise ConfigError(f"DATABASE_URL: {tls}") from None
            if not database_unreachable(exc):
                raise ConfigError(f"DATABASE_URL: the database refused Tocsin: {_first_line(exc)}") from None
            wait = next(waits)
            if clock() + wait > deadline:
                raise ConfigError(
                    f"DATABASE_URL: the database at {redact_url(url)} did not answer within {within:g}s "
                    f"({type(exc).__name__}); set STARTUP_TIMEOUT to wait longer"
                ) from None
            log.warning("the database is unreachable (%s); trying again in %.1fs", _first_line(exc), wait)
        await asyncio.sleep(wait)


async def wait_for_slack(attempt: Callable[[], Awaitable[None]], what: str, status: SlackStatus) -> None:
    """Run `attempt` until Slack answers it, with backoff; `status` tells /readyz and logs an outage once
    (naming the URL). A ConfigError (Slack refused a token) is raised at once."""
    waits = delays()
    while True:
        try:
            await attempt()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status.failed(exc, what)
        else:
            status.answered(what)
            return
        await asyncio.sleep(next(waits))


def _sqlite_folder_exists(url: str) -> None:
    """A SQLite file in a folder that does not exist can never open: say so before trying."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return
    folder = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent
    if not folder.is_dir():
        raise ConfigError(f"DATABASE_URL: the database refused Tocsin: the folder {folder} does not exist")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
