"""Overrides and swaps from Slack, end to end on both databases through the strict Slack double: taking a
shift, giving one away and swapping (the other person's Accept), declining, refusals (overlapping, past,
expired), the audit list, a running page keeping its snapshot, and `/incident oncall` as schedules stand.

The clock starts on Monday 2026-11-23 10:00 UTC; payments-primary (Europe/London, weekly from Monday 09:00)
has bob this week and carol the next; payments-secondary (daily) is carol's."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bot.app import Tocsin
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY, declare
from tests.conftest import FakeClock, StartTocsin, settle, timers_of
from tests.slack_double import SlackDouble


async def oncall(double: SlackDouble, tocsin: Tocsin, text: str, user: str = "U0ALICE") -> str:
    """`/incident oncall …` typed in #general; what it answered the typist (only them)."""

    def private() -> list[str]:  # response_url replies and ephemerals: not the DMs others send meanwhile
        texts = [r["text"] for r in double.responses if r["user_id"] == user and r.get("text")]
        return texts + [e["text"] for e in double.ephemerals if e["user"] == user and e.get("text")]

    before = Counter(private())
    await double.slash_command(user, double.channel_named("general").id, f"oncall {text}".strip())
    await settle(tocsin)
    return "\n".join((Counter(private()) - before).elements())


def asking_dm(double: SlackDouble, user: str) -> tuple[str, dict[str, Any]]:
    """The DM asking `user` to accept a give or swap: its channel and the message."""
    channel = next(c for c in double.channels.values() if c.is_im and user in c.members)
    message = [m for m in channel.messages if "Accept?" in m["text"]][-1]
    return channel.id, message


async def answer(double: SlackDouble, tocsin: Tocsin, user: str, button: str) -> dict[str, Any]:
    """`user` clicks Accept or Decline in their asking DM; the DM as it is afterwards."""
    channel, message = asking_dm(double, user)
    await double.click(user, channel, message["ts"], f"shift_request_{button}")
    await settle(tocsin)
    return next(m for m in double.channels[channel].messages if m["ts"] == message["ts"])


async def boundary_jobs(tocsin: Tocsin) -> list[str]:
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        return [job.due_at.isoformat() for job in await uow.jobs.pending_of_kind("shift.boundary")]


async def start(start_tocsin: StartTocsin, database_url: str, clock: FakeClock) -> Tocsin:
    return await start_tocsin(database_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))


async def test_taking_a_shift_overrides_the_rotation_and_is_on_the_audit_list(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")
    reply = await oncall(double, tocsin, "take payments-primary now 4h")
    assert "You're on call for *payments-primary*" in reply and "instead of <@U0BOB>" in reply
    assert "override #1" in reply
    now = await oncall(double, tocsin, "")
    assert "*payments-primary*: <@U0ALICE>" in now and "→ <@U0BOB>" in now  # bob is back after the 4 hours
    assert "2026-11-23T14:00:00+00:00" in await boundary_jobs(tocsin)  # its end; its start fired at once
    clock.advance(hours=4)
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")
    log = await oncall(double, tocsin, "log payments-primary")
    assert "<@U0ALICE> took *payments-primary*" in log and "(#1)" in log


async def test_a_give_accepted_hands_the_shift_over_and_both_people_hear(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    reply = await oncall(double, tocsin, "give payments-primary @carol tomorrow 09:00 8h", user="U0BOB")
    assert "Asked <@U0CAROL>" in reply and "nothing changes until they accept" in reply
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")  # not yet
    home = json.dumps(double.home_views["U0CAROL"])  # her App Home has it too, with her next shifts
    assert "Your on-call" in home and "shift_request_accept" in home and "*payments-primary*" in home
    clock.advance(minutes=3)
    dm = await answer(double, tocsin, "U0CAROL", "accept")
    assert dm["text"].startswith(":white_check_mark: Accepted") and "actions" not in str(dm.get("blocks"))
    assert any("<@U0CAROL> accepted" in m["text"] for m in double.dm_messages("U0BOB"))
    clock.advance(hours=23)  # Tuesday 09:00 London
    assert "*payments-primary*: <@U0CAROL>" in await oncall(double, tocsin, "")
    log = await oncall(double, tocsin, "log")
    assert "<@U0BOB> asked <@U0CAROL> to take" in log and "took (given by <@U0BOB>)" in log


async def test_a_swap_accepted_trades_whole_shifts(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    reply = await oncall(double, tocsin, "swap payments-primary @carol mon 2026-11-30", user="U0BOB")
    assert "Asked <@U0CAROL>" in reply and "swap" in reply
    clock.advance(minutes=10)
    await answer(double, tocsin, "U0CAROL", "accept")
    now = await oncall(double, tocsin, "")
    # carol has the rest of bob's week (from her answer), bob has her week from Monday 30 November
    assert "*payments-primary*: <@U0CAROL>" in now and "→ <@U0BOB>" in now
    clock.advance(days=7)
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")
    log = await oncall(double, tocsin, "log")
    assert log.count("swapped with") == 2


async def test_a_declined_request_changes_nothing_and_the_asker_is_told(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    await oncall(double, tocsin, "give payments-primary @carol now", user="U0BOB")
    dm = await answer(double, tocsin, "U0CAROL", "decline")
    assert dm["text"].startswith(":no_entry_sign: Declined")
    assert any("<@U0CAROL> declined" in m["text"] for m in double.dm_messages("U0BOB"))
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")
    assert "<@U0CAROL> declined <@U0BOB>'s request for *payments-primary*" in await oncall(double, tocsin, "log")


async def test_overlapping_past_and_expired_changes_are_refused_with_the_reason(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start(start_tocsin, database_url, clock)
    await oncall(double, tocsin, "take payments-primary now 4h")
    refused = await oncall(double, tocsin, "take payments-primary 12:00 1h", user="U0CAROL")
    assert "overlaps override #1 (<@U0ALICE>" in refused and "/incident oncall remove 1" in refused
    past = await oncall(double, tocsin, "take payments-primary 09:30 1h", user="U0CAROL")
    assert "starts in the past: it's Mon 23 Nov 10:00 GMT now" in past
    assert "over already" in await oncall(double, tocsin, "take payments-primary 08:00 1h", user="U0CAROL")
    # a give asked before an overlapping take is refused when accepted, with the reason
    await oncall(double, tocsin, "give payments-primary @carol tomorrow 09:00 8h", user="U0BOB")
    await oncall(double, tocsin, "take payments-primary tomorrow 10:00 1h", user="U0DAVE")
    dm = await answer(double, tocsin, "U0CAROL", "accept")
    assert dm["text"].startswith(":warning: Could not be done") and "overlaps override #2" in dm["text"]
    # removing an override puts the rotation back (bob may: it replaced his shift); the audit list keeps it
    assert "Only the people it concerns" in await oncall(double, tocsin, "remove 1", user="U0CAROL")
    assert "Removed override #1" in await oncall(double, tocsin, "remove 1", user="U0BOB")
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")
    # a give accepted after it would have started has expired
    await oncall(double, tocsin, "give payments-primary @carol 2026-11-24 20:00 2h", user="U0BOB")
    clock.advance(hours=36)
    dm = await answer(double, tocsin, "U0CAROL", "accept")
    assert dm["text"].startswith(":hourglass: Expired")
    assert "*payments-primary*: <@U0BOB>" in await oncall(double, tocsin, "")
    # someone who does not hold a shift cannot give it
    assert "isn't on call" in await oncall(double, tocsin, "give payments-primary @bob now 1h", user="U0CAROL")
    log = await oncall(double, tocsin, "log")
    for line in ("removed the override of <@U0ALICE>", "accepted too late", "answered after the start"):
        assert line in log


async def test_a_running_page_keeps_the_schedule_it_started_with(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    billing = {"keywords": ["invoices"], "escalation_policy": "payments", "page_on_declare": ["SEV2"]}
    policy = Policy.model_validate({**PAGING_POLICY, "services": {**PAGING_POLICY["services"], "billing": billing}})
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy)
    await declare(double, tocsin, "declare sev2 Checkout errors")
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 1
    await oncall(double, tocsin, "take payments-primary now 4h")
    for minutes in (5, 10):  # the secondary, then the policy's second round starts with the primary again
        clock.advance(minutes=minutes)
        await timers_of(tocsin).tick()
        await settle(tocsin)
    assert len(pages_to(double, "U0BOB")) == 2 and pages_to(double, "U0ALICE") == []
    await declare(double, tocsin, "declare sev2 Invoices are late", user="U0CAROL")  # a new page sees the override
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert len(pages_to(double, "U0ALICE")) == 1 and len(pages_to(double, "U0BOB")) == 2


def pages_to(double: SlackDouble, user: str) -> list[dict[str, Any]]:
    return [m for m in double.dm_messages(user) if "being paged" in m["text"]]
