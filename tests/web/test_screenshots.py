"""The screenshots docs/web.md shows, taken in headless Chromium from ten weeks of made-up incidents (on a
clock the test moves). Run only to regenerate them: `TOCSIN_SCREENSHOTS=1 .venv/bin/pytest -q
tests/web/test_screenshots.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from bot.domain.policy import Policy
from tests.conftest import FakeClock, settle
from tests.web.conftest import TAKE_SCREENSHOTS, OpenSite, Site, Tab
from tests.web.world import channel_of

pytestmark = pytest.mark.skipif(not TAKE_SCREENSHOTS, reason="TOCSIN_SCREENSHOTS=1 regenerates docs/images/web-*.png")

START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # a Monday
# (week, severity, title, hours to resolve)
HISTORY = [
    (0, "sev2", "Checkout payments failing for EU cards", 3.5),
    (0, "sev3", "Search results slow for large catalogues", 20),
    (1, "sev3", "Search latency after index rebuild", 9),
    (2, "sev1", "Checkout down: database connection pool exhausted", 1.2),
    (3, "sev2", "Payment webhooks delayed", 5),
    (4, "sev3", "Search suggestions missing", 30),
    (5, "sev2", "Checkout errors after deploy 4.12", 2),
    (6, "sev4", "Typo in the order confirmation e-mail", 50),
    (7, "sev2", "Search index stale", 6),
    (8, "sev1", "Checkout 500s in us-east", 0.8),
    (9, "sev3", "Slow admin dashboard", 12),
]


def policy(now: datetime) -> Policy:
    """Two services paging two rotas, carol covering payments this afternoon."""
    cover = {
        "user": "U0CAROL",
        "start": (now - timedelta(hours=2)).isoformat(),
        "end": (now + timedelta(hours=3)).isoformat(),
    }
    return Policy.model_validate(
        {
            "schedules": {
                "payments-primary": {
                    "rotation": "weekly",
                    "handoff": "mon 09:00",
                    "users": ["U0ALICE", "U0BOB"],
                    "overrides": [cover],
                },
                "search-primary": {"rotation": "daily", "handoff": "09:00", "users": ["U0DAVE", "U0CAROL"]},
            },
            "escalation_policies": {
                "payments": {"tiers": [{"notify": ["schedule:payments-primary"], "after": "5m"}]},
                "search": {"tiers": [{"notify": ["schedule:search-primary"], "after": "5m"}]},
            },
            "services": {
                "checkout": {"keywords": ["checkout", "payment", "payments"], "escalation_policy": "payments"},
                "search": {"keywords": ["search"], "escalation_policy": "search"},
            },
        }
    )


async def acknowledge(site: Site, user: str, channel: str) -> None:
    """`user` presses Acknowledge on the incident's header message."""
    where = site.channel(channel)
    ack = await site.double.click(user, where.id, where.messages[0]["ts"], "incident_acknowledge")
    assert ack.status == 200
    await settle(site.tocsin)


async def test_screenshots_for_the_docs(open_site: OpenSite, sqlite_url: str, browser: WebDriver) -> None:
    clock = FakeClock(START)
    now = START + timedelta(weeks=10, hours=5)
    site = await open_site(sqlite_url, policy=policy(now), clock=clock)
    site.double.add_user("U0DAVE", "dave")
    number = 0
    for week, severity, title, hours in HISTORY:
        clock.now = START + timedelta(weeks=week, days=week % 4, hours=week % 5)
        site.double._ts = clock.now.timestamp()  # Slack's message times follow the story's clock
        declarer = "U0BOB" if week % 2 else "U0CAROL"  # the commander, who may resolve
        await site.say(declarer, "general", f"declare {severity} {title}")
        number += 1
        channel = await channel_of(site, number)
        clock.now += timedelta(minutes=4 + week)
        await acknowledge(site, "U0ALICE" if week % 3 else "U0BOB", channel)
        clock.now += timedelta(hours=hours)
        if week == 2:
            await site.say(declarer, channel, "followup Alert on connection-pool saturation @bob due 2026-10-01")
        if week == 5:
            await site.say(declarer, channel, "followup Canary deploys for checkout @carol due 2026-12-15")
        await site.say(declarer, channel, "resolve Fixed; see the timeline")
    clock.now = now - timedelta(minutes=48)
    site.double._ts = clock.now.timestamp()
    await site.say("U0DAVE", "general", "declare sev2 Checkout errors for card payments")
    number += 1
    live = await channel_of(site, number)
    for minutes, user, text in (
        (3, "U0DAVE", "ic @alice"),
        (4, "U0ALICE", "comms @bob"),
        (9, "U0ALICE", "update Card payments fail for about 30% of checkouts; investigating the payment gateway"),
        (14, "U0ALICE", "note Gateway latency rose at 13:02, right after deploy 4.19"),
        (16, "U0ALICE", "sev 1 conversion down by a third"),
        (18, "U0ALICE", "page @carol"),
        (31, "U0BOB", "update Rolling back deploy 4.19; error rate falling"),
        (36, "U0ALICE", "followup Add a gateway latency alert @dave due 2026-12-01"),
    ):
        clock.now = now - timedelta(minutes=48 - minutes)
        site.double._ts = clock.now.timestamp()
        await site.say(user, live, text)
    clock.now = now - timedelta(minutes=20)
    site.double._ts = clock.now.timestamp()
    await acknowledge(site, "U0ALICE", live)
    await site.pin("U0DAVE", live, "Error rate is back under 0.5% since the rollback at 13:41")
    await site.say("U0BOB", "general", "declare --private sev2 Suspicious logins on the admin console")
    clock.now = now
    tab = Tab(browser, site)
    await tab.sign_in("U0ALICE")
    for name, path in (
        ("incidents", "/"),
        ("incident", f"/incidents/INC-{number}"),
        ("postmortem", "/incidents/INC-4/postmortem"),
        ("follow-ups", "/follow-ups?state=all"),
        ("stats", "/stats?days=90"),
        ("oncall", "/oncall"),
    ):
        await tab.open(path)
        await tab.screenshot(name)
    await tab.open(f"/incidents/INC-{number}")
    await tab.screenshot("incident-phone", width=420)
