"""Declare benchmark (run on demand: `make bench`). Tocsin runs as a real `tocsin run` process; the
Slack double and the load come from this process.

Measures:
- ack latency p50/p99 for 100 concurrent `/incident declare` over HTTP (target p99 < 50 ms), beside a
  bare Bolt app that only acknowledges, measured the same way in the same run (target <= 1.3x),
- sequential Slack round trips until the channel is usable, and time to full set-up, with 100 ms
  injected per Web API call (targets: <= 2 round trips, < 500 ms),
- idle RSS of the process after start-up, and RSS after the load.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import aiohttp

from tests.conftest import eventually
from tests.slack_double import SlackDouble

CONCURRENT = 100
# Slack delivers from many machines; one Python sender would time its own send loop, not our acks.
SENDERS = int(os.environ.get("BENCH_SENDERS", "4"))


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) / 1024


async def start_process(
    double: SlackDouble, database_url: str, tmp_path: Path
) -> tuple[asyncio.subprocess.Process, int]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "PYTHONPATH": os.getcwd(),
        "SLACK_BOT_TOKEN": double.bot_token,
        "SLACK_SIGNING_SECRET": double.signing_secret,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "LOG_LEVEL": "INFO",  # the start-up line carries the port
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "tocsin exited"
        if match := re.search(r"Tocsin is up on 127\.0\.0\.1:(\d+)", line):
            # Keep reading its log: a full pipe would block the process at its next log line.
            _DRAINS.add(asyncio.create_task(_drain(process.stderr)))
            return process, int(match.group(1))


_DRAINS: set[asyncio.Task[None]] = set()


async def _drain(stream: asyncio.StreamReader) -> None:
    # BENCH_TOCSIN_LOG=path keeps Tocsin's log (with when each line was read) for a closer look.
    kept: list[str] = []
    while line := await stream.readline():
        if os.environ.get("BENCH_TOCSIN_LOG"):
            kept.append(f"{time.monotonic():.3f} {line.decode(errors='replace')}")
    if kept:
        await asyncio.to_thread(Path(os.environ["BENCH_TOCSIN_LOG"]).write_text, "".join(kept))


async def send_from_another_process(double: SlackDouble, payloads: list[dict[str, str]]) -> list[float]:
    load = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.load", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    job = {"url": double.app_url, "secret": double.signing_secret, "payloads": payloads, "senders": SENDERS}
    out, _ = await asyncio.wait_for(load.communicate(json.dumps(job).encode()), 120)
    assert load.returncode == 0
    latencies: list[float] = json.loads(out)
    return latencies


async def bare_bolt_latencies(double: SlackDouble, payloads: list[dict[str, str]]) -> list[float]:
    """The same requests against a Bolt app that only acknowledges (the floor on this machine)."""
    bare = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.bare_bolt",
        double.signing_secret,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert bare.stdout is not None and bare.stdin is not None
    port = int(await asyncio.wait_for(bare.stdout.readline(), 30))
    tocsin_url = double.app_url
    double.app_url = f"http://127.0.0.1:{port}/slack/events"
    try:
        await send_from_another_process(double, payloads[:10])  # warm, as Tocsin was by the first declare
        return sorted(await send_from_another_process(double, payloads))
    finally:
        double.app_url = tocsin_url
        bare.stdin.close()
        await bare.wait()


def p99(latencies: list[float]) -> float:
    return latencies[int(len(latencies) * 0.99) - 1]


async def ack_buckets(port: int) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    buckets = dict(re.findall(r'tocsin_slack_ack_seconds_bucket\{le="([^"]+)"\} ([\d.]+)', text))
    total = float(buckets["+Inf"])
    return ", ".join(f"{float(buckets[le]) / total:.0%} <= {float(le) * 1000:.0f} ms" for le in ("0.01", "0.05"))


async def test_bench_declare(bench_db: str, tmp_path: Path) -> None:
    double = await SlackDouble().start()
    alice = double.add_user("U0ALICE", "alice")
    general = double.add_channel("general", members={alice}).id
    double.add_channel("incidents")
    process, port = await start_process(double, bench_db, tmp_path)
    try:
        double.app_url = f"http://127.0.0.1:{port}/slack/events"
        await asyncio.sleep(1.0)
        idle_rss = rss_mib(process.pid)

        # 1. Round trips and set-up time for one declare, 100 ms per Slack call.
        double.latency = 0.100
        before = len(double.calls)
        started = time.monotonic()
        await double.slash_command("U0ALICE", general, "declare sev2 Latency probe")
        await eventually(lambda: any(c.method == "pins.add" and c.ended for c in double.calls[before:]), within=120)
        calls = double.calls[before:]
        usable_at = max(c.ended for c in calls if c.method == "conversations.invite")
        setup_done = max(c.ended for c in calls)
        usable = [c for c in calls if c.method in ("conversations.create", "conversations.invite")]
        round_trips_usable = double.sequential_round_trips(usable)
        round_trips_all = double.sequential_round_trips(calls)

        # 2. Ack latency for 100 concurrent declares (no injected latency), sent from another process.
        double.latency = 0.0
        await asyncio.sleep(0.5)
        payloads = [double.slash_payload("U0ALICE", general, f"declare sev3 Load {n}") for n in range(CONCURRENT)]
        latencies = sorted(await send_from_another_process(double, payloads))
        await eventually(
            lambda: len([c for c in double.channels.values() if c.name.startswith("inc-")]) == CONCURRENT + 1,
            within=120,
        )
        await eventually(lambda: len(double.calls_to("pins.add")) == CONCURRENT + 1, within=120)
        loaded_rss = rss_mib(process.pid)
        bare = await bare_bolt_latencies(double, payloads)
        p50 = statistics.median(latencies)

        kind = bench_db.split(":", 1)[0]
        server_side = await ack_buckets(port)
        print(
            f"\n[{kind}] ack latency over {CONCURRENT} concurrent declares: p50 {p50:.1f} ms, p99 {p99(latencies):.1f} "
            f"ms (target < 50 ms), max {latencies[-1]:.1f} ms ({SENDERS} sender processes); server-side {server_side}"
            f"\n[{kind}] a bare Bolt app, same requests: p50 {statistics.median(bare):.1f} ms, p99 {p99(bare):.1f} ms; "
            f"Tocsin's p99 is {p99(latencies) / p99(bare):.2f}x the bare app's (target <= 1.3x)"
            f"\n[{kind}] with 100 ms per Slack call: {round_trips_usable} sequential round trips until the channel "
            f"is usable ({(usable_at - started) * 1000:.0f} ms), {round_trips_all} until fully set up "
            f"({(setup_done - started) * 1000:.0f} ms)"
            f"\n[{kind}] RSS: idle {idle_rss:.1f} MiB, after {CONCURRENT + 1} declares {loaded_rss:.1f} MiB"
        )
        assert round_trips_usable <= 2
    finally:
        process.terminate()
        await process.wait()
        await double.stop()
