"""Alert notices in a storm, end to end: the broadcast channel gets the first few notices and then one
digest, edited as the rest arrive (counts by severity and by service, the first titles); notices spread
out in time stay posts of their own, and a storm after a quiet spell gets a digest of its own."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.app import Tocsin
from bot.domain.notice_digests import DIGEST_TITLES, STORM_THRESHOLD, STORM_WINDOW
from bot.domain.policy import Policy
from bot.usecases.alert_notices import DIGEST_EDIT_INTERVAL
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY
from tests.conftest import FakeClock, StartTocsin, settle
from tests.e2e.test_alerts import TOKEN, post
from tests.slack_double import SlackDouble

POLICY = {**PAGING_POLICY, "services": {**PAGING_POLICY["services"], "search": {"keywords": ["search"]}}}
SEVERITIES = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3"}
SERVICES = ["checkout", "search", None]


def severity_label(n: int) -> str:
    return list(SEVERITIES)[n % 3]


def service_of(n: int) -> str | None:
    return SERVICES[(n // 2) % 3]  # not in step with the severity, so the two counts differ


def alert(n: int) -> dict[str, Any]:
    """A new alert group of its own (generic webhook): severities and services take turns."""
    body: dict[str, Any] = {
        "dedup_key": f"storm-{n}",
        "title": f"Storm alert {n}",
        "severity": severity_label(n),
        "url": f"https://grafana.example/alerting/{n}",
    }
    if service := service_of(n):
        body["service"] = service
    return body


def notices(double: SlackDouble) -> list[str]:
    return [m["text"] for m in double.messages_in("#incidents") if "*Alert firing:*" in m["text"]]


def digests(double: SlackDouble) -> list[str]:
    """The digests in #incidents, as their blocks read now (after every edit)."""
    return [
        "\n".join(b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in m["blocks"])
        for m in double.messages_in("#incidents")
        if "Alert storm" in m["text"]
    ]


def numbers(texts: list[str]) -> list[int]:
    return [int(n) for text in texts for n in re.findall(r"Storm alert (\d+)", text)]


async def start(start_tocsin: StartTocsin, url: str, clock: FakeClock) -> Tocsin:
    return await start_tocsin(url, clock=clock, policy=Policy.model_validate(POLICY), alerts_token=TOKEN)


async def test_thirty_new_alert_groups_at_once_are_a_few_notices_and_one_digest_counting_the_rest(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    began = asyncio.get_running_loop().time()
    results = await asyncio.gather(*(post(tocsin, "generic", alert(n)) for n in range(30)))
    assert all(code == 200 for code, _ in results)
    await settle(tocsin)
    elapsed = asyncio.get_running_loop().time() - began

    assert len(double.messages_in("#incidents")) == STORM_THRESHOLD + 1  # not 30 posts
    alone = numbers(notices(double))
    assert len(alone) == STORM_THRESHOLD
    [digest] = digests(double)
    rest = [n for n in range(30) if n not in alone]
    assert "*Alert storm: 27 more alert groups fired*" in digest
    by_severity = {s: sum(SEVERITIES[severity_label(n)] == s for n in rest) for s in ("SEV1", "SEV2", "SEV3")}
    assert "*By severity:* " + " · ".join(f"{s} {c}" for s, c in by_severity.items() if c) in digest
    by_service = {s: sum(service_of(n) == s for n in rest) for s in SERVICES}
    for service, count in by_service.items():
        assert f"{service or '_no service_'} {count}" in digest.split("*By service:*")[1].split("\n")[0]
    named = numbers([digest.split("*The first")[1]])
    assert len(named) == DIGEST_TITLES and not set(named) & set(alone) and len(set(named)) == DIGEST_TITLES
    assert f"<https://grafana.example/alerting/{named[0]}|source>" in digest
    assert f"… and {27 - DIGEST_TITLES} more." in digest
    # Edits are coalesced: at most one per interval, never one per alert.
    incidents = double.find_channel_named("incidents")
    assert incidents is not None
    edits = len([c for c in double.calls_to("chat.update") if c.args.get("channel") == incidents.id])
    assert 1 <= edits <= elapsed / DIGEST_EDIT_INTERVAL + 2, (edits, elapsed)
    print(f"30 new alert groups: {STORM_THRESHOLD + 1} posts in #incidents, {edits} digest edits in {elapsed:.1f} s")
    # Every alert still paged as its route says: the checkout ones page the payments policy.
    async with UnitOfWork(session_factory(tocsin.engine), read_only=True) as uow:
        assert (await uow.alerts.count())[0] == 30


async def test_notices_spread_out_in_time_stay_posts_and_each_storm_gets_its_own_digest(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, sqlite_url, clock)
    spacing = STORM_WINDOW / (STORM_THRESHOLD - 1)  # never STORM_THRESHOLD within one window
    for n in range(6):
        assert (await post(tocsin, "generic", alert(n)))[0] == 200
        await settle(tocsin)
        clock.advance(seconds=spacing.total_seconds())
    assert numbers(notices(double)) == list(range(6)) and digests(double) == []

    for storm in (100, 200):  # two storms with a quiet spell between them
        clock.advance(seconds=STORM_WINDOW.total_seconds())
        await asyncio.gather(*(post(tocsin, "generic", alert(storm + n)) for n in range(10)))
        await settle(tocsin)
    assert len(notices(double)) == 6 + 2 * STORM_THRESHOLD
    assert len(digests(double)) == 2
    assert all("*Alert storm: 7 more alert groups fired*" in d for d in digests(double))
    first, second = digests(double)
    assert all(100 <= n < 110 for n in numbers([first])) and all(200 <= n < 210 for n in numbers([second]))
    assert len(double.messages_in("#incidents")) == 6 + 2 * (STORM_THRESHOLD + 1)
