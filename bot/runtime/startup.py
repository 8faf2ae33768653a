"""Start-up that neither hangs nor spins: the database and Slack are waited for with capped exponential
backoff and jitter, one line per attempt; what can never work (a refused token, wrong credentials, a
missing database) stops start-up with one line naming the setting."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ConfigError
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


async def wait_for_slack(attempt: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `attempt` until Slack answers it; one line per failed attempt, then backoff. A ConfigError
    (Slack refused a token) is raised at once."""
    waits = delays()
    while True:
        try:
            await attempt()
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            wait = next(waits)
            log.warning("%s: Slack is unreachable (%s); trying again in %.1fs", what, type(exc).__name__, wait)
        await asyncio.sleep(wait)


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
