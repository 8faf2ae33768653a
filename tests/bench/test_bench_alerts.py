"""Alert storm benchmark (run on demand): 200 Alertmanager deliveries of 10 alerts each, every one a new
alert group routed to a paging policy, sent by another process with 20 in flight (as a busy Alertmanager
would). Tocsin runs as a real `tocsin run` process; the Slack double enforces Slack's rate tiers and the
per-channel pace of about one message a second.

Targets: answered p99 < 200 ms on both databases, >= 100 requests a second on PostgreSQL; the notices
and page DMs follow at Slack's pace with no 429 from Tocsin's own bursts. Then the same 200 deliveries
again (known groups: database writes only, no Slack work): p99 < 250 ms on SQLite.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest -q -s tests/bench/test_bench_alerts.py
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bench.test_bench_declare import start_process
from tests.slack_double import SlackDouble

REQUESTS = 200
ALERTS_PER_REQUEST = 10
CONCURRENCY = 20
WATCH_SECONDS = float(os.environ.get("BENCH_ALERT_WATCH_SECONDS", "20"))
TOKEN = "bench-alert-token-5e884898da28047151d0e56f8dc6"
ON_CALL = [f"U0ONCALL{n}" for n in range(5)]


def policy() -> dict[str, object]:
    return {
        "schedules": {
            f"primary-{n}": {"rotation": "weekly", "handoff": "mon 09:00", "users": [user]}
            for n, user in enumerate(ON_CALL)
        },
        "escalation_policies": {
            f"team-{n}": {"tiers": [{"notify": [f"schedule:primary-{n}"], "after": "5m"}]} for n in range(len(ON_CALL))
        },
        "services": {f"svc-{n}": {"escalation_policy": f"team-{n}"} for n in range(len(ON_CALL))},
        "alerts": {"routes": [{"match": {"service": f"svc-{n}"}, "service": f"svc-{n}"} for n in range(len(ON_CALL))]},
    }


def delivery(number: int, alerts_in_it: int = ALERTS_PER_REQUEST) -> dict[str, object]:
    """Delivery `number`: a new alert group (its own alert name) of `alerts_in_it` alerts on one service."""
    service = f"svc-{number % len(ON_CALL)}"
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"Storm{number}", "service": service, "severity": "critical", "pod": f"p{n}"},
            "annotations": {"summary": f"Storm alert {number}", "description": f"pod p{n} is failing"},
            "startsAt": "2026-11-29T09:58:30.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph",
            "fingerprint": f"fp-{number}-{n}",
        }
        for n in range(alerts_in_it)
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Storm{number}"}}',
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": f"Storm{number}"},
        "commonLabels": {"alertname": f"Storm{number}", "service": service},
        "alerts": alerts,
    }


async def send(url: str) -> dict[str, Any]:
    """Post REQUESTS deliveries from another process: its `{"latencies": [ms, ...], "seconds": s}`."""
    load = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.load", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    job = {"url": url, "token": TOKEN, "bodies": [delivery(n) for n in range(REQUESTS)], "concurrency": CONCURRENCY}
    out, _ = await asyncio.wait_for(load.communicate(json.dumps(job).encode()), 300)
    assert load.returncode == 0
    result: dict[str, Any] = json.loads(out)
    return result


async def test_bench_alert_storm(bench_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    double = await SlackDouble().start()
    for user in ON_CALL:
        double.add_user(user, user.lower())
    double.add_channel("incidents")
    double.enforce_tiers, double.post_interval_per_channel = True, 1.0
    config = tmp_path / "tocsin.yml"
    config.write_text(json.dumps(policy()))
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    monkeypatch.setenv("ALERTS_TOKEN", TOKEN)
    process, port = await start_process(double, bench_db, tmp_path)
    try:
        result = await send(f"http://127.0.0.1:{port}/alerts/alertmanager")
        latencies = sorted(result["latencies"])
        seconds = float(result["seconds"])
        await asyncio.sleep(WATCH_SECONDS)
        notices = [m for m in double.messages_in("#incidents") if "Alert firing" in m["text"]]
        dms = sum(len(double.dm_messages(user)) for user in ON_CALL)
        refused = [c for c in double.calls if c.error == "ratelimited"]
        again = sorted((await send(f"http://127.0.0.1:{port}/alerts/alertmanager"))["latencies"])
        kind = bench_db.split(":", 1)[0]
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"\n[{kind}] {REQUESTS} deliveries x {ALERTS_PER_REQUEST} alerts, {CONCURRENCY} in flight: "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms (target < 200 ms), "
            f"max {latencies[-1]:.1f} ms; {REQUESTS / seconds:.0f} requests/s (target >= 100 on PostgreSQL)"
            f"\n[{kind}] {WATCH_SECONDS:.0f} s later: {len(notices)} notices posted in #incidents, {dms} page DMs "
            f"sent to {len(ON_CALL)} people; {len(refused)} calls answered 429 (target 0)"
            f"\n[{kind}] the same deliveries again (known groups, writes only): p50 {statistics.median(again):.1f} ms, "
            f"p99 {again[int(len(again) * 0.99) - 1]:.1f} ms (target < 250 ms on SQLite), max {again[-1]:.1f} ms"
        )
    finally:
        process.terminate()
        await process.wait()
        await double.stop()
