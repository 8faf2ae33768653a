"""Storm benchmark (run on demand): a large outage as it arrives. N `/incident declare` (each from its own
person) and M alert webhooks, each a new alert group that pages an on-call person and posts a notice to
#incidents, all sent at once from other processes; meanwhile a person runs `/incident list` (2 s in), posts
an update to an incident declared before the storm (4 s in) and pages someone (6 s in). Tocsin runs as a
real `tocsin run` process.

Reports when each person-facing reply was sent (the list, the update in its channel, the page's DM, each
declarer's confirmation), when the last storm channel was made and usable (its declarer invited), how
many posts #incidents received (and when the last one went out), when each page DM went out, and how long
after its webhook was answered each alert's page first showed in a DM (a post of its own, or a digest's
post or edit).

Variants: SQLite with 100 declares + 300 alert groups, PostgreSQL (TEST_DATABASE_URL) with 200 + 500,
both with the Slack double answering at once and its rate limits off (Tocsin still keeps Slack's pace of
about one post a second per channel itself); then SQLite with the double's rate tiers and per-channel
pace on (a real minute: conversations.create allows a burst of 20, then one every 3 s).
Targets: the list answered < 5 s; every channel made < 2 min (rate limits off), or at Slack's pace (on).

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest -q -s tests/bench/test_bench_storm.py
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.bench.test_bench_alerts import ON_CALL, TOKEN, delivery, policy
from tests.bench.test_bench_declare import SENDERS, start_process
from tests.conftest import POSTGRES_URL, _fresh_postgres, eventually
from tests.slack_double import SlackDouble

ALERTS_PER_DELIVERY = 2
ALERT_CONCURRENCY = 50  # an Alertmanager (or several) delivering as fast as Tocsin answers
WATCH_SECONDS = float(os.environ.get("BENCH_STORM_WATCH_SECONDS", "60"))  # after the last channel, for the rest
CHANNELS_WITHIN = float(os.environ.get("BENCH_STORM_CHANNELS_WITHIN", "900"))
PERSON = "U0PERSON"
PAGED = "U0PAGED"


@dataclass
class Variant:
    database: str
    declares: int
    alerts: int
    tiers: bool

    @property
    def name(self) -> str:
        return f"{self.database} {self.declares}+{self.alerts}{', rate tiers on' if self.tiers else ''}"


VARIANTS = [
    Variant("sqlite", 100, 300, tiers=False),
    Variant("postgresql", 200, 500, tiers=False),
    Variant("sqlite", 100, 300, tiers=True),
]


@dataclass
class Watch:
    """When each response_url reply arrived (the double records no time for them)."""

    started: float
    seen: list[float] = field(default_factory=list)


async def watch(double: SlackDouble, seen: Watch) -> None:
    while True:
        now = time.monotonic()
        seen.seen.extend(now for _ in range(len(double.responses) - len(seen.seen)))
        await asyncio.sleep(0.02)


async def load(job: dict[str, object]) -> object:
    sender = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.load", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(sender.communicate(json.dumps(job).encode()), 900)
    assert sender.returncode == 0
    return json.loads(out)


def paged_after_alert(calls: list[Any], answered: dict[str, float]) -> list[float]:
    """For each alert group, seconds from its webhook's answer to the first DM post or edit naming it."""
    shown: dict[str, float] = {}
    for call in calls:
        if call.error or call.method not in ("chat.postMessage", "chat.update"):
            continue
        if call.args.get("channel") not in ON_CALL and not str(call.args.get("channel", "")).startswith("D"):
            continue
        for number in re.findall(r"Storm alert (\d+)\b", json.dumps(call.args)):
            shown.setdefault(f"Storm{number}", call.ended)
    return [shown[name] - at for name, at in answered.items() if name in shown]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    return f"p50 {statistics.median(values):.1f} s, p99 {p99(values):.1f} s, max {max(values):.1f} s (n={len(values)})"


async def database_for(variant: Variant, tmp_path: Path) -> tuple[str, object]:
    if variant.database == "sqlite":
        return f"sqlite:///{tmp_path / 'storm.db'}", None
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    fresh = _fresh_postgres()
    return await fresh.__anext__(), fresh


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name.replace(" ", "-").replace(",", ""))
async def test_bench_storm(variant: Variant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database_url, fresh = await database_for(variant, tmp_path)
    double = await SlackDouble().start()
    for user in ON_CALL:
        double.add_user(user, user.lower())
    person = double.add_user(PERSON, "person")
    double.add_user(PAGED, "paged")
    declarers = [double.add_user(f"U0D{n:05d}", f"declarer{n}") for n in range(variant.declares)]
    general = double.add_channel("general", members={person, *declarers}).id
    double.add_channel("incidents")
    if variant.tiers:
        double.enforce_tiers, double.post_interval_per_channel = True, 1.0
    config = tmp_path / "tocsin.yml"
    config.write_text(json.dumps(policy()))
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    monkeypatch.setenv("ALERTS_TOKEN", TOKEN)
    process, port = await start_process(double, database_url, tmp_path)
    double.app_url = f"http://127.0.0.1:{port}/slack/events"
    replies = Watch(time.monotonic())
    watcher = asyncio.create_task(watch(double, replies))
    try:
        await double.slash_command(PERSON, general, "declare sev2 Before the storm")
        await eventually(lambda: double.calls_to("pins.add"), within=60, what="the first incident set up")
        before = double.channel_named("inc-1-before-the-storm")
        assert before is not None
        await asyncio.sleep(2)  # its announcement and confirmation out of the way
        first_call, first_response = len(double.calls), len(double.responses)

        declares = [double.slash_payload(d, general, f"declare sev3 Storm outage {n}") for n, d in enumerate(declarers)]
        declaring = load({"url": double.app_url, "secret": double.signing_secret, "payloads": declares,
                          "senders": SENDERS})  # fmt: skip
        alerting = load({"url": f"http://127.0.0.1:{port}/alerts/alertmanager", "token": TOKEN,
                         "bodies": [delivery(n, ALERTS_PER_DELIVERY) for n in range(variant.alerts)],
                         "concurrency": ALERT_CONCURRENCY})  # fmt: skip
        started = time.monotonic()
        storm = asyncio.gather(declaring, alerting)

        async def person_at(seconds: float, text: str, channel: str) -> float:
            await asyncio.sleep(seconds - (time.monotonic() - started))
            await double.slash_command(PERSON, channel, text)
            return time.monotonic()

        list_sent = await person_at(2, "list", general)
        update_sent = await person_at(4, "update Storm in progress [person-update]", before.id)
        page_sent = await person_at(6, "page @paged", before.id)
        declare_acks: Any
        alert_result: Any
        declare_acks, alert_result = await storm
        assert isinstance(alert_result, dict)
        sent = time.monotonic() - started

        def reply_of(user: str) -> float | None:
            for index, response in enumerate(double.responses[first_response:], start=first_response):
                if response["user_id"] == user and response.get("text") and index < len(replies.seen):
                    return replies.seen[index]
            return None

        await eventually(lambda: reply_of(PERSON) is not None, within=900, what="the person's list answered")
        answered_at = reply_of(PERSON)
        assert answered_at is not None
        list_answered = answered_at - list_sent

        def storm_channels() -> list[float]:
            return [c.ended for c in double.calls[first_call:] if c.method == "conversations.create" and not c.error]

        await eventually(
            lambda: len(storm_channels()) >= variant.declares, within=CHANNELS_WITHIN, every=0.5, what="every channel"
        )
        created = sorted(storm_channels())
        ids = {c.id for c in double.channels.values() if c.name.startswith("inc-") and c.id != before.id}
        await eventually(
            lambda: len({c.args.get("channel") for c in double.calls_to("conversations.invite")} & ids) >= len(ids),
            within=CHANNELS_WITHIN,
            every=0.5,
            what="every channel usable",
        )
        usable = max(c.ended for c in double.calls_to("conversations.invite") if c.args.get("channel") in ids)
        await asyncio.sleep(WATCH_SECONDS)

        calls = double.calls[first_call:]
        posts = [c for c in calls if c.method == "chat.postMessage" and not c.error]
        in_channel = next((c.ended for c in posts if "[person-update]" in str(c.args.get("text"))), None)
        paged_dm = next((c.ended for c in posts if c.args.get("channel") == PAGED), None)
        page_dms = [c.ended - started for c in posts if c.args.get("channel") in ON_CALL]
        broadcast = [c for c in posts if c.args.get("channel") in ("#incidents", double.channel_named("incidents").id)]
        confirmations = [
            replies.seen[i] - started
            for i, r in enumerate(double.responses[first_response:], start=first_response)
            if r["user_id"] in declarers and i < len(replies.seen)
        ]
        refused = sum(1 for c in calls if c.error == "ratelimited")
        page_shown = paged_after_alert(calls, alert_result["answered"])
        alert_ms: list[float] = alert_result["latencies"]
        print(
            f"\n[{variant.name}] load sent in {sent:.1f} s; declare acks p99 {p99(declare_acks):.0f} ms, "
            f"alert webhooks p99 {p99(alert_ms):.0f} ms"
            f"\n[{variant.name}] the person: /incident list answered {list_answered:.2f} s after it was sent "
            f"(target < 5 s); the update in its channel after "
            f"{(in_channel - update_sent) if in_channel else float('nan'):.2f} s; the page's DM after "
            f"{(paged_dm - page_sent) if paged_dm else float('nan'):.2f} s"
            f"\n[{variant.name}] declarers' confirmations (from the storm's start): {spread(confirmations)}"
            f"\n[{variant.name}] channels: first made {created[0] - started:.1f} s, last made "
            f"{created[-1] - started:.1f} s, last usable {usable - started:.1f} s (target < 120 s with rate limits off)"
            f"\n[{variant.name}] #incidents received {len(broadcast)} posts by {WATCH_SECONDS:.0f} s after that "
            f"(the last at {(broadcast[-1].ended - started) if broadcast else 0:.1f} s); page DMs to the "
            f"{len(ON_CALL)} on-call people: {spread(page_dms)}; {refused} calls answered 429"
            f"\n[{variant.name}] each alert's page shown in a DM after its webhook was answered: "
            f"{spread(page_shown)} of {variant.alerts} (target < 10 s)"
        )
    finally:
        watcher.cancel()
        process.terminate()
        await process.wait()
        await double.stop()
        if fresh is not None:
            await fresh.aclose()  # type: ignore[attr-defined]
