"""Start-up cost: `tocsin check` on the example policy, and `tocsin run` until /readyz answers 200 (the
database already migrated, as on every start but the first). Targets: check < 0.5 s, ready < 1.2 s.

    make bench   # or: .venv/bin/python -m pytest -q -s tests/bench/test_bench_startup.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp

from tests.e2e.test_process import clean_env
from tests.slack_double import SlackDouble

ROOT = Path(__file__).resolve().parents[2]
RUNS = 5


async def check_seconds(cwd: Path) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        str(ROOT / "examples" / "tocsin.yml"),
        env=clean_env(PYTHONPATH=str(ROOT)),
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await process.wait() == 0
    return time.perf_counter() - started


async def ready_seconds(double: SlackDouble, database_url: str, cwd: Path) -> float:
    env = clean_env(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_APP_TOKEN=double.app_token,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT="39481",
    )
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get("http://127.0.0.1:39481/readyz") as response:
                        if response.status == 200:
                            return time.perf_counter() - started
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.01)
    finally:
        process.terminate()
        await process.wait()


async def test_bench_startup(tmp_path: Path) -> None:
    checks = [await check_seconds(tmp_path) for _ in range(RUNS)]
    double = await SlackDouble().start()
    try:
        url = f"sqlite:///{tmp_path / 'tocsin.db'}"
        first = await ready_seconds(double, url, tmp_path)  # migrates a new database
        readies = [await ready_seconds(double, url, tmp_path) for _ in range(RUNS)]
    finally:
        await double.stop()
    print(f"\ntocsin check examples/tocsin.yml: median {statistics.median(checks):.2f} s (target < 0.5 s)")
    print(
        f"tocsin run → /readyz 200, Socket Mode, SQLite migrated: median {statistics.median(readies):.2f} s "
        f"(target < 1.2 s); first start with migrations {first:.2f} s"
    )
