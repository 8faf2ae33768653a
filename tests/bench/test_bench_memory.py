"""Memory over many declares (run on demand): `tocsin run` as a real process declares 10,000 incidents,
sent 100 at a time over HTTP against the Slack double, and its RSS is read after every 2,000 (target
after 10,000: < 150 MiB, and no steady growth). BENCH_DECLARES shrinks the run.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest -q -s tests/bench/test_bench_memory.py
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from tests.bench.test_bench_declare import rss_mib, send_from_another_process, start_process
from tests.conftest import eventually
from tests.slack_double import SlackDouble

DECLARES = int(os.environ.get("BENCH_DECLARES", "10000"))
BATCH = 100
STEP = 2_000


async def test_bench_memory(bench_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No broadcast channel: 10,000 announcements at Slack's pace of about one a second would be a
    # backlog of hours, which measures the queue rather than what each incident costs.
    config = tmp_path / "tocsin.yml"
    config.write_text("broadcast_channel: null\n")
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    double = await SlackDouble().start()
    alice = double.add_user("U0ALICE", "alice")
    general = double.add_channel("general", members={alice}).id
    double.add_channel("incidents")
    process, port = await start_process(double, bench_db, tmp_path)
    kind = bench_db.split(":", 1)[0]
    try:
        double.app_url = f"http://127.0.0.1:{port}/slack/events"
        await asyncio.sleep(1.0)
        readings = [(0, rss_mib(process.pid))]
        started = time.monotonic()
        for sent in range(0, DECLARES, BATCH):
            payloads = [
                double.slash_payload("U0ALICE", general, f"declare sev3 Memory {n}") for n in range(sent, sent + BATCH)
            ]
            await send_from_another_process(double, payloads)
            done = sent + BATCH

            def all_pinned(done: int = done) -> bool:
                return len(double.calls_to("pins.add")) >= done

            await eventually(all_pinned, within=300)
            if (sent + BATCH) % STEP == 0:
                readings.append((sent + BATCH, rss_mib(process.pid)))
                print(
                    f"  {sent + BATCH:,} declared after {time.monotonic() - started:.0f} s: {readings[-1][1]:.0f} MiB"
                )
        elapsed = time.monotonic() - started
        line = ", ".join(f"{n:,}: {mib:.0f} MiB" for n, mib in readings)
        print(f"\n[{kind}] RSS after declares ({elapsed:.0f} s for {DECLARES:,}): {line} (target < 150 MiB at the end)")
    finally:
        process.terminate()
        await process.wait()
        await double.stop()
