"""Calendar feeds end to end on both databases: `/incident oncall calendar` gives (only to the asker) the
feed URLs; each feed is iCalendar that the icalendar library parses back into the shifts `/incident oncall`
shows, overrides marked; a wrong token and an unknown schedule get the same 404; rotating a feed's address
stops the old one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp
from icalendar import Calendar

from bot.app import Tocsin
from bot.domain.policy import Policy
from tests.builders import PAGING_POLICY
from tests.conftest import FakeClock, StartTocsin
from tests.shifts.test_shifts_e2e import oncall
from tests.slack_double import SlackDouble

PUBLIC = "https://tocsin.example.com"


def feed_urls(reply: str) -> dict[str, str]:
    """The feeds a calendar reply lists: label → URL."""
    found = {}
    for line in reply.splitlines():
        if match := re.search(r"• (Your shifts|Schedule \*([^*]+)\*): `([^`]+)`", line):
            found[match.group(2) or "me"] = match.group(3)
    return found


async def fetch(tocsin: Tocsin, url: str) -> tuple[int, str, bytes]:
    local = url.replace(PUBLIC, f"http://127.0.0.1:{tocsin.port}")
    async with aiohttp.ClientSession() as http, http.get(local) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


def events(document: bytes) -> list[tuple[datetime, datetime, str, str]]:
    """Each VEVENT as (start, end, summary, description), in order."""
    calendar = Calendar.from_ical(document)
    found = [
        (e.decoded("dtstart"), e.decoded("dtend"), str(e.get("summary")), str(e.get("description")))
        for e in calendar.walk("VEVENT")
    ]
    assert len({str(e.get("uid")) for e in calendar.walk("VEVENT")}) == len(found)  # one UID per shift
    return sorted(found)


async def test_the_feeds_hold_the_shifts_oncall_shows_and_their_addresses_are_the_keys(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    policy = Policy.model_validate(PAGING_POLICY)
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy, public_url=PUBLIC)
    await oncall(double, tocsin, "take payments-primary tomorrow 09:00 8h")
    urls = feed_urls(await oncall(double, tocsin, "calendar"))
    assert set(urls) == {"me", "payments-primary", "payments-secondary"}
    assert urls["me"].startswith(f"{PUBLIC}/oncall/people/U0ALICE.ics?token=")

    status, kind, body = await fetch(tocsin, urls["payments-primary"])
    assert status == 200 and kind.startswith("text/calendar")
    shifts = events(body)
    now = clock.now
    current = next(e for e in shifts if e[0] <= now < e[1])
    assert current[2] == "On call: payments-primary" and "U0BOB" in current[3]
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")  # the feed agrees with Slack
    tomorrow_nine = datetime(2026, 11, 24, 9, tzinfo=UTC)  # GMT: London's 09:00 is 09:00 UTC
    override = next(e for e in shifts if "(override)" in e[2])
    assert override[:2] == (tomorrow_nine, tomorrow_nine + timedelta(hours=8)) and "U0ALICE" in override[3]
    assert current[1] == tomorrow_nine  # bob's turn is split around alice's override, and goes on after it
    assert shifts[-1][0] < now + timedelta(days=91) and shifts[-1][1] > now + timedelta(days=89)
    assert all(e[0].tzinfo is not None and e[0].utcoffset() == timedelta(0) for e in shifts)  # UTC times

    clock.advance(hours=24)  # tomorrow 10:00: both agree it is alice's
    _, _, body = await fetch(tocsin, urls["payments-primary"])
    now_event = next(e for e in events(body) if e[0] <= clock.now < e[1])
    assert "U0ALICE" in now_event[3] and "*payments-primary*: <@U0ALICE>" in await oncall(double, tocsin, "")

    _, _, mine = await fetch(tocsin, urls["me"])
    assert [e[2] for e in events(mine)] == ["On call: payments-primary (override)"]

    wrong = await fetch(tocsin, urls["payments-primary"][:-4] + "abcd")
    unknown = await fetch(tocsin, urls["payments-primary"].replace("payments-primary", "nothing-here"))
    assert wrong[0] == unknown[0] == 404 and wrong[2] == unknown[2]

    rotated = feed_urls(await oncall(double, tocsin, "calendar rotate"))
    assert rotated["me"] != urls["me"] and rotated["payments-primary"] == urls["payments-primary"]
    assert (await fetch(tocsin, urls["me"]))[0] == 404 and (await fetch(tocsin, rotated["me"]))[0] == 200
    refused = await oncall(double, tocsin, "calendar rotate payments-primary", user="U0DAVE")
    assert "Only the schedule's people" in refused
