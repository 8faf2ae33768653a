"""The async engine from DATABASE_URL: aiosqlite for SQLite, asyncpg for PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import QueuePool, StaticPool
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelSession

from storage.postgres_url import asyncpg_arguments

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connections kept open per process (DATABASE_POOL_SIZE): enough for a burst of webhooks and
# commands without opening (and, past the pool's size, closing again) a connection per request. Replicas
# times (pool + overflow) must stay under the server's max_connections (100 by default).
POOL_SIZE = 20
MIN_POOL_SIZE = 10  # the event subscribers, jobs and timers alone hold up to ~10 at busy moments
POOL_OVERFLOW = 5
READ_ONLY = "tocsin_read_only"  # execution option: this transaction only reads


def async_database_url(url: str) -> str:
    """Pick the async driver for a plain `sqlite:///…` or `postgresql://…` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}; use sqlite:/// or postgresql://")


def is_sqlite(engine: AsyncEngine) -> bool:
    """Whether the engine talks to SQLite (one writer at a time)."""
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, pool_size: int = POOL_SIZE) -> AsyncEngine:
    """An engine for DATABASE_URL; on SQLite every transaction takes the write lock up front. A PostgreSQL
    URL's libpq parameters (sslmode…) are checked and translated: DatabaseUrlError, one line, if wrong;
    its pool keeps `pool_size` connections (and POOL_OVERFLOW more in a burst)."""
    async_url = make_url(async_database_url(url))
    kwargs: dict[str, Any] = {}
    if async_url.get_backend_name() != "sqlite":
        # libpq's parameters (sslmode=require…) become asyncpg's arguments. A server connection can go
        # stale (restarts, idle timeouts): ping it on checkout. A SQLite file cannot.
        async_url, connect_args = asyncpg_arguments(async_url)
        kwargs = {"pool_pre_ping": True, "pool_size": pool_size, "max_overflow": POOL_OVERFLOW}
        kwargs["connect_args"] = connect_args
    elif async_url.database in (None, "", ":memory:"):
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_async_engine(async_url, **kwargs)
    if is_sqlite(engine):
        _serialise_sqlite_writers(engine)
    return engine


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    # SQLite's deferred transactions fail at once with "database is locked" when two readers both try
    # to write; BEGIN IMMEDIATE makes the second one wait (busy_timeout) instead. WAL (use_wal) lets
    # readers in meanwhile.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers (READ_ONLY) take no write lock: under WAL they run beside the one writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


async def use_wal(engine: AsyncEngine) -> None:
    """Switch a SQLite file to WAL (readers never wait for the writer). Called once, before migrating.

    WAL is stored in the file. The switch needs an exclusive lock, and SQLite answers BUSY at once (no
    busy_timeout) while another connection holds any lock, as when replicas start together: retry.
    """
    if not is_sqlite(engine):
        return
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None  # an open connection has its driver's (aiosqlite's) connection
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                cursor = await raw.execute("PRAGMA journal_mode = WAL")
                if (mode := await cursor.fetchone()) is not None and mode[0] == "wal":
                    return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.05)


def pool_size(engine: AsyncEngine) -> int:
    """How many connections the engine's pool keeps (1 for SQLite's, which has one writer at a time)."""
    if is_sqlite(engine):
        return 1
    assert isinstance(engine.pool, QueuePool)  # create_engine's for PostgreSQL
    return engine.pool.size()


async def open_pool(engine: AsyncEngine) -> None:
    """Open the pool's PostgreSQL connections now, so the first burst after start-up does not wait for
    connections to be made (a SQLite file needs none)."""
    if is_sqlite(engine):
        return
    async with contextlib.AsyncExitStack() as stack:
        await asyncio.gather(*(stack.enter_async_context(engine.connect()) for _ in range(pool_size(engine))))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[SQLModelSession]:
    """SQLModel sessions (they add `.exec`) whose objects stay readable after commit."""
    return async_sessionmaker(engine, class_=SQLModelSession, expire_on_commit=False)
