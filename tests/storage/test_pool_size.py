"""DATABASE_POOL_SIZE: the PostgreSQL connections a replica keeps open, so that replicas times the pool
fit the server's max_connections."""

from __future__ import annotations

import asyncio
import time

import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import StartTocsin


async def until_connections(admin: asyncpg.Connection, database: str, expected: int, *, what: str) -> None:
    """Wait (generously) until `database` has exactly `expected` server connections."""
    deadline = time.monotonic() + 60
    while (seen := await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database)) != (
        expected
    ):
        assert time.monotonic() < deadline, f"{what}: {seen} connections, not {expected}, after 60s"
        await asyncio.sleep(0.05)


async def test_a_replica_keeps_as_many_connections_open_as_its_pool_size(
    start_tocsin: StartTocsin, postgres_url: str
) -> None:
    url = make_url(postgres_url)
    database = url.database or ""
    admin = await asyncpg.connect(url.set(drivername="postgresql", database="postgres").render_as_string(False))
    try:
        first = await start_tocsin(postgres_url, database_pool_size=10)
        await until_connections(admin, database, 10, what="the first replica's pool opened at start-up")
        await start_tocsin(postgres_url, database_pool_size=12)
        await until_connections(admin, database, 22, what="a second replica's pool beside it")
        await first.stop()
        await until_connections(admin, database, 12, what="the first replica's connections closed on stop")
    finally:
        await admin.close()
