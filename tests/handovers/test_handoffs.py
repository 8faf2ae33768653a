"""Shift handovers end to end, on a fake clock: at each handoff the incoming and outgoing people get one
digest (open incidents, the shift's pages, alerts firing, the notes left), the handover channel too; a
handoff missed while Tocsin was down gives one digest for whoever holds the shift now, never a backlog;
a follow-the-sun schedule hands over at its wall clock across a daylight-saving change; a handover note
is refused politely to someone not on call. The real app, the strict Slack double, both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app import Tocsin
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, jobs_of, settle, timers_of
from tests.slack_double import SlackDouble

POLICY: dict[str, Any] = {
    "schedules": {
        "payments-primary": {
            "timezone": "Europe/London",
            "rotation": "weekly",
            "handoff": "mon 09:00",
            "users": ["U0BOB", "U0CAROL"],
            "start": "2026-11-23",
            "handover_channel": "#oncall",
        }
    },
    "escalation_policies": {"payments": {"tiers": [{"notify": ["schedule:payments-primary"], "after": "5m"}]}},
    "services": {"checkout": {"keywords": ["checkout"], "escalation_policy": "payments", "page_on_declare": ["SEV1"]}},
    "contact_methods": {"ntfy": {"url": "https://ntfy.invalid"}},
}
FOLLOW_THE_SUN: dict[str, Any] = {
    "schedules": {
        "sun": {
            "timezone": "Europe/London",
            "layers": [
                {
                    "name": "london",
                    "rotation": "daily",
                    "handoff": "08:00",
                    "users": ["U0ALICE"],
                    "hours": "08:00-16:00",
                },
                {"name": "la", "rotation": "daily", "handoff": "16:00", "users": ["U0BOB"], "hours": "16:00-08:00"},
            ],
        }
    }
}


def digests_to(double: SlackDouble, user: str) -> list[str]:
    return [m["text"] for m in double.dm_messages(user) if "on call for" in m["text"] or "Your shift on" in m["text"]]


async def tick_jobs(tocsin: Tocsin) -> None:
    """Fire the jobs due now, then the ones they planned due now (the digests, the user group)."""
    await jobs_of(tocsin).tick()
    await settle(tocsin)
    await jobs_of(tocsin).tick()
    await settle(tocsin)


async def handoffs(tocsin: Tocsin) -> list[dict[str, Any]]:
    """The OncallHandoff events recorded, oldest first."""
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        found = await uow.events.after(0, limit=1000, kinds=["oncall.handoff"])
    return [e.data.model_dump(mode="json") for _, e in found]


async def test_a_handoff_sends_one_digest_to_each_side_and_the_handover_channel(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    oncall = double.add_channel("oncall", bot_member=True)
    tocsin = await start_tocsin(database_url, clock=clock, policy=Policy.model_validate(POLICY))
    await tick_jobs(tocsin)
    assert digests_to(double, "U0BOB") == []  # the first look only notes who is on call: bob
    channel = await declare(double, tocsin, "declare sev1 Checkout is failing")
    await timers_of(tocsin).tick()
    await settle(tocsin)
    await double.slash_command("U0BOB", channel.id, "oncall handover db-2 flaps <!channel>; restart <it>")
    await double.slash_command("U0CAROL", channel.id, "oncall handover I am not on call")
    await settle(tocsin)
    assert any("not on call for any schedule" in t for t in double.replies_to("U0CAROL"))

    clock.now = datetime(2026, 11, 30, 8, 59, tzinfo=UTC)
    await tick_jobs(tocsin)
    assert digests_to(double, "U0CAROL") == []  # not yet
    clock.advance(minutes=1)
    await tick_jobs(tocsin)
    await tick_jobs(tocsin)  # a second tick changes nothing

    incoming, outgoing = digests_to(double, "U0CAROL"), digests_to(double, "U0BOB")
    assert len(incoming) == 1 and len(outgoing) == 1
    assert "You are on call for *payments-primary* from now, taking over from <@U0BOB>" in incoming[0]
    assert "no verified way to be reached beyond Slack" in incoming[0]  # ntfy is set up; carol has none
    assert "Your shift on *payments-primary* has ended; <@U0CAROL> has taken over" in outgoing[0]
    dm = next(m for m in double.dm_messages("U0CAROL") if "on call for" in m["text"])
    shown = "\n".join(b["text"]["text"] for b in dm["blocks"] if b["type"] == "section")
    assert "*Open incidents (1)*" in shown and "INC-1" in shown and "Checkout is failing" in shown
    assert "0 acknowledged, 1 not" in shown
    assert "db-2 flaps &lt;!channel&gt;; restart &lt;it&gt;" in shown and "<!channel>" not in shown
    assert "I am not on call" not in shown
    posted = [m["text"] for m in oncall.messages]
    assert len(posted) == 1 and "passed from <@U0BOB> to <@U0CAROL>" in posted[0]
    recorded = await handoffs(tocsin)
    assert [(h["outgoing"], h["incoming"], h["at"][:16]) for h in recorded] == [
        ("U0BOB", "U0CAROL", "2026-11-30T09:00")
    ]


async def test_handoffs_missed_while_down_give_one_digest_for_whoever_holds_the_shift_now(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double.add_channel("oncall", bot_member=True)
    policy = Policy.model_validate(POLICY)
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy)
    await tick_jobs(tocsin)
    await tocsin.stop(drain_seconds=5)
    # Three handoffs pass while Tocsin is down: carol (30 Nov), bob (7 Dec), carol (14 Dec).
    clock.now = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy)
    await tick_jobs(tocsin)
    await tick_jobs(tocsin)
    assert len(digests_to(double, "U0CAROL")) == 1 and len(digests_to(double, "U0BOB")) == 1
    assert [(h["outgoing"], h["incoming"]) for h in await handoffs(tocsin)] == [("U0BOB", "U0CAROL")]
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        pending = await uow.jobs.pending_of_kind("shift.boundary")
    assert [j.due_at for j in pending] == [datetime(2026, 12, 21, 9, 0, tzinfo=UTC)]  # the next, not the old


async def test_a_follow_the_sun_schedule_hands_over_at_its_wall_clock_across_the_clock_change(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    # British Summer Time ends on Sunday 25 October 2026: London's 08:00 is 07:00 UTC on the Saturday,
    # 08:00 UTC on the Sunday.
    clock = FakeClock(datetime(2026, 10, 24, 6, 0, tzinfo=UTC))
    tocsin = await start_tocsin(database_url, clock=clock, policy=Policy.model_validate(FOLLOW_THE_SUN))
    await tick_jobs(tocsin)
    seen: list[tuple[str, str]] = []
    for hour in [(24, 7), (24, 15), (25, 7), (25, 8), (25, 16)]:
        clock.now = datetime(2026, 10, hour[0], hour[1], 0, tzinfo=UTC)
        await tick_jobs(tocsin)
        seen.extend((h["at"][:16], h["incoming"]) for h in (await handoffs(tocsin))[len(seen) :])
    assert seen == [
        ("2026-10-24T07:00", "U0ALICE"),
        ("2026-10-24T15:00", "U0BOB"),
        ("2026-10-25T08:00", "U0ALICE"),  # not at 07:00: the wall clock, not UTC
        ("2026-10-25T16:00", "U0BOB"),
    ]
    assert len(digests_to(double, "U0ALICE")) == 4 and len(digests_to(double, "U0BOB")) == 4
