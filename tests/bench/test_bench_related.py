"""Related incidents over a big history (run on demand): 100,000 incidents stored in bulk (the full-text
index kept by the database's own triggers as they go in), then the related incidents of a new one found
through the use case, as its channel's post and `/incident related` ask: p50 and p95 of 50 runs, on SQLite
(FTS5) and PostgreSQL (tsvector); target < 50 ms. The expected three must still come first.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest -q -s tests/bench/test_bench_related.py

BENCH_RELATED_INCIDENTS shrinks the history for a quick look.
"""

from __future__ import annotations

import os
import statistics
import time

import sqlalchemy as sa

from bot.usecases.related import RelatedIncidents
from storage.db import create_engine
from storage.migrate import upgrade_to_head
from tests.related.history import EXPECTED
from tests.related.test_ranking import related_on, with_subject

INCIDENTS = int(os.environ.get("BENCH_RELATED_INCIDENTS", "100000"))
RUNS = 50
TARGET_MS = 50


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def test_bench_related(bench_db: str) -> None:
    engine = create_engine(bench_db)
    try:
        await upgrade_to_head(engine)
        started = time.perf_counter()
        subject = await with_subject(engine, INCIDENTS)
        stored = time.perf_counter() - started
        async with engine.connect() as connection:  # a database with a history has its statistics
            await connection.execute(sa.text("ANALYZE"))
            await connection.commit()
        related: RelatedIncidents = related_on(engine)
        found = await related.find(subject, viewer=None)  # warm: statement caches, connections
        assert [m.incident.title for m in found.matches] == EXPECTED
        times, cpu = [], []
        for _ in range(RUNS):
            began, began_cpu = time.perf_counter(), time.process_time()
            await related.find(subject, viewer=None)
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)  # Tocsin's own work, SQLite's thread included
        kind = bench_db.split(":", 1)[0]
        print(f"\n[{kind}] {INCIDENTS:,} incidents stored in {stored:.1f} s")
        print(
            f"[{kind}] related incidents: p50 {statistics.median(times):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms (target < {TARGET_MS} ms); this process's CPU p50 "
            f"{statistics.median(cpu):.1f} ms; load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        await engine.dispose()
