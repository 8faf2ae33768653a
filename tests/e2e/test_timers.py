"""Reminders and paging, end to end with an injected clock: the real app, the strict Slack double, the
timer tick driven by the test (`timers_of(tocsin).tick()`), and restarts and replicas on one database."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Tocsin
from bot.domain.incidents import TimelineKind
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.models import PageNotificationRow
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY, declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline, timers_of
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


async def tick(tocsin: Tocsin) -> int:
    fired = await timers_of(tocsin).tick()
    await settle(tocsin)
    return fired


def pages_to(double: SlackDouble, user: str) -> list[dict[str, Any]]:
    return [m for m in double.dm_messages(user) if "being paged" in m["text"]]


def told(double: SlackDouble, user: str) -> list[str]:
    """Ephemeral replies to a person (response_url), not their DMs."""
    return [r["text"] for r in double.responses if r["user_id"] == user and r.get("text")]


def nags(channel: Channel) -> list[dict[str, Any]]:
    return [m for m in channel.messages if ":alarm_clock:" in m["text"]]


# ----- update reminders ---------------------------------------------------------------------------
async def test_an_overdue_update_nags_the_channel_then_dms_the_commander(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channel = await declare(double, tocsin, "declare sev2 Slow search")
    clock.advance(minutes=14, seconds=59)
    assert await tick(tocsin) == 0
    clock.advance(seconds=1)  # the first update was due 15 minutes after declaring
    assert await tick(tocsin) == 1
    (nag,) = nags(channel)
    assert "<@U0ALICE> an update on *INC-1: Slow search* was due" in nag["text"]
    assert nag["blocks"][1]["elements"][0]["action_id"] == "incident_post_update"
    clock.advance(minutes=14)
    assert await tick(tocsin) == 0 and double.dm_messages("U0ALICE") == []
    clock.advance(minutes=1)  # a second interval with no update: the IC is messaged
    assert await tick(tocsin) == 1
    assert "has had no status update" in double.dm_messages("U0ALICE")[-1]["text"]
    clock.advance(hours=3)
    assert await tick(tocsin) == 0
    reminders = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.REMINDER]
    assert [r.text for r in reminders] == [
        "Update overdue: the channel was reminded",
        "Update still overdue: the Incident Commander was messaged",
    ]
    assert tocsin.metrics.render().decode().count('tocsin_timer_lateness_seconds_count{kind="reminder"} 2.0') == 1


async def test_the_nag_goes_to_the_comms_lead_and_an_update_resets_the_clock(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channel = await declare(double, tocsin, "declare sev2 Login loops")
    await double.slash_command("U0ALICE", channel.id, "comms @carol")
    await settle(tocsin)
    clock.advance(minutes=15)
    await tick(tocsin)
    assert "<@U0CAROL> an update on" in nags(channel)[-1]["text"]
    clock.advance(minutes=5)
    await double.slash_command("U0CAROL", channel.id, "update Sessions are being rebuilt")
    await settle(tocsin)
    clock.advance(minutes=29)  # SEV2: the next update is due 30 minutes after this one
    assert await tick(tocsin) == 0
    clock.advance(minutes=1)
    assert await tick(tocsin) == 1 and len(nags(channel)) == 2


async def test_severity_changes_move_the_reminder_and_sev4_and_resolve_stop_it(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channel = await declare(double, tocsin, "declare sev3 Flaky builds")
    await double.slash_command("U0ALICE", channel.id, "update looking")
    await settle(tocsin)
    await double.slash_command("U0ALICE", channel.id, "sev 1")  # 60 min cadence becomes 15
    await settle(tocsin)
    clock.advance(minutes=15)
    assert await tick(tocsin) == 1
    await double.slash_command("U0ALICE", channel.id, "sev 4")  # no cadence: no more reminders
    await settle(tocsin)
    clock.advance(hours=5)
    assert await tick(tocsin) == 0
    other = await declare(double, tocsin, "declare sev1 Second one")
    await double.slash_command("U0ALICE", other.id, "resolve fixed quickly")
    await settle(tocsin)
    clock.advance(hours=1)
    assert await tick(tocsin) == 0 and nags(other) == []


# ----- paging -------------------------------------------------------------------------------------
async def test_declaring_pages_the_service_and_each_tier_fires_in_turn_then_repeats_then_gives_up(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    channel = await declare(double, tocsin, "declare sev1 Checkout is failing")
    assert len(pages_to(double, "U0BOB")) == 1  # primary on call this week, paged at once
    assert f"<#{channel.id}>" in pages_to(double, "U0BOB")[0]["text"]
    assert any("Paging <@U0BOB> (step 1 of 6, payments)" in m["text"] for m in channel.messages)
    clock.advance(minutes=4)
    assert await tick(tocsin) == 0
    clock.advance(minutes=1)  # tier 1 waited 5 minutes: the secondary
    await tick(tocsin)
    assert len(pages_to(double, "U0CAROL")) == 1
    clock.advance(minutes=10)  # tier 3 (SEV1 only): the management group and a named user
    await tick(tocsin)
    assert len(pages_to(double, "U0DAVE")) == 1 and len(pages_to(double, "U0ERIN")) == 1
    clock.advance(minutes=15)  # repeat: round two starts with the primary again
    await tick(tocsin)
    assert len(pages_to(double, "U0BOB")) == 2
    for minutes in (5, 10, 15):
        clock.advance(minutes=minutes)
        await tick(tocsin)
    assert len(pages_to(double, "U0DAVE")) == 2
    assert any("Nobody acknowledged the page" in m["text"] for m in channel.messages)
    assert any("Nobody acknowledged the page" in m["text"] for m in double.messages_in("#incidents"))
    clock.advance(hours=2)
    assert await tick(tocsin) == 0


async def test_a_sev2_page_skips_the_sev1_only_tier(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    await declare(double, tocsin, "declare sev2 Payment retries piling up")
    for minutes in (5, 10, 5, 10, 30):
        clock.advance(minutes=minutes)
        await tick(tocsin)
    assert pages_to(double, "U0DAVE") == [] and pages_to(double, "U0ERIN") == []
    assert len(pages_to(double, "U0BOB")) == 2 and len(pages_to(double, "U0CAROL")) == 2


async def test_acknowledging_stops_the_escalation_everywhere(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    channel = await declare(double, tocsin, "declare sev1 Checkout down")
    clock.advance(minutes=5)
    await tick(tocsin)  # the secondary is paged too
    dm = pages_to(double, "U0CAROL")[0]
    dm_channel = next(c for c in double.channels.values() if c.is_im and "U0CAROL" in c.members)
    clock.advance(seconds=30)
    await double.click("U0CAROL", dm_channel.id, dm["ts"], "page_acknowledge")
    await settle(tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.acknowledged_by == "U0CAROL" and incident.acknowledged_at == T0 + timedelta(minutes=5, seconds=30)
    assert "U0CAROL" in channel.members
    assert any("<@U0CAROL> acknowledged the page" in m["text"] for m in channel.messages)
    for user in ("U0BOB", "U0CAROL"):  # every DM of the page now says who acknowledged, without buttons
        for message in pages_to(double, user) + [m for m in double.dm_messages(user) if "Acknowledged by" in m["text"]]:
            assert "Acknowledged by <@U0CAROL>" in message["text"]
            assert not any(b["type"] == "actions" for b in message["blocks"])
    clock.advance(hours=2)
    await tick(tocsin)
    assert pages_to(double, "U0DAVE") == []
    assert [m["text"].splitlines()[-1] for m in double.dm_messages("U0BOB")] == [
        ":white_check_mark: Acknowledged by <@U0CAROL>."
    ]


async def test_two_people_acknowledging_at_once_one_wins_the_other_is_told(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    await declare(double, tocsin, "declare sev1 Checkout down")
    clock.advance(minutes=5)
    await tick(tocsin)
    clicks = []
    for user in ("U0BOB", "U0CAROL"):
        dm = next(c for c in double.channels.values() if c.is_im and user in c.members)
        clicks.append(double.click(user, dm.id, pages_to(double, user)[0]["ts"], "page_acknowledge"))
    await asyncio.gather(*clicks)
    await settle(tocsin)
    winner = (await stored_incident(tocsin, 1)).acknowledged_by
    loser = "U0CAROL" if winner == "U0BOB" else "U0BOB"
    assert winner in ("U0BOB", "U0CAROL")
    assert told(double, loser)[-1] == f"That page was already acknowledged by <@{winner}>."
    acks = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.ACKNOWLEDGED]
    assert len(acks) == 1


async def test_declining_passes_the_page_on_at_once(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    await declare(double, tocsin, "declare sev1 Checkout down")
    bob_dm = next(c for c in double.channels.values() if c.is_im and "U0BOB" in c.members)
    await double.click("U0BOB", bob_dm.id, pages_to(double, "U0BOB")[0]["ts"], "page_decline")
    await settle(tocsin)
    assert len(pages_to(double, "U0CAROL")) == 1  # no waiting out the 5 minutes
    assert told(double, "U0BOB")[-1].startswith("Declined: the next step")


async def test_paging_a_person_by_command(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channel = await declare(double, tocsin, "declare sev3 Odd metrics")
    await double.slash_command("U0ALICE", channel.id, "page @erin")
    await settle(tocsin)
    assert len(pages_to(double, "U0ERIN")) == 1
    assert ":pager: Paging <@U0ERIN> for INC-1." in double.replies_to("U0ALICE")
    clock.advance(minutes=5)
    await tick(tocsin)
    assert any("Nobody acknowledged the page" in m["text"] for m in channel.messages)
    page_entries = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.PAGE]
    assert page_entries[0].startswith("Page started: user:U0ERIN")


async def test_oncall_shows_who_and_the_next_handoff(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    ack = await double.slash_command("U0ALICE", double.channel_named("general").id, "oncall checkout")
    await settle(tocsin)
    (reply,) = double.replies_to("U0ALICE")
    assert ack.status == 200
    assert "*payments-primary*: <@U0BOB> · next handoff <!date^" in reply and "→ <@U0CAROL>" in reply
    assert "*payments-secondary*: <@U0CAROL>" in reply


# ----- durability ------------------------------------------------------------------------------------
async def test_a_restart_mid_escalation_fires_each_step_once_and_keeps_the_old_policy(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    first = await start_tocsin(database_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    await declare(double, first, "declare sev1 Checkout down")
    clock.advance(minutes=5)
    await tick(first)
    await first.stop(drain_seconds=5)
    # While it is down: the policy is edited and 40 minutes pass.
    edited = {**PAGING_POLICY, "escalation_policies": {"payments": {"tiers": [{"notify": ["user:U0ALICE"]}]}}}
    clock.advance(minutes=40)
    second = await start_tocsin(database_url, clock=clock, policy=Policy.model_validate(edited))
    await tick(second)  # the overdue step, late but once, from the policy as it was when paging began
    await tick(second)
    assert len(pages_to(double, "U0DAVE")) == 1 and pages_to(double, "U0ALICE") == []
    steps = Counter(m["text"] for m in double.dm_messages("U0BOB"))
    assert max(steps.values()) == 1


async def test_an_acknowledgement_racing_a_step_leaves_the_page_acknowledged(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(PAGING_POLICY))
    await declare(double, tocsin, "declare sev1 Checkout down")
    bob_dm = next(c for c in double.channels.values() if c.is_im and "U0BOB" in c.members)
    clock.advance(minutes=5)
    double.latency = 0.2  # the step's DMs are in flight when the click lands
    step = asyncio.create_task(timers_of(tocsin).tick())
    await asyncio.sleep(0.05)
    await double.click("U0BOB", bob_dm.id, pages_to(double, "U0BOB")[0]["ts"], "page_acknowledge")
    await step
    await settle(tocsin)
    double.latency = 0
    clock.advance(hours=1)
    await tick(tocsin)
    assert pages_to(double, "U0DAVE") == []
    carol = [m for m in double.dm_messages("U0CAROL")]
    assert carol and all("Acknowledged by <@U0BOB>" in m["text"] for m in carol)  # the step sent, shown settled


async def test_two_schedulers_on_one_database_fire_every_step_exactly_once(
    people: SlackDouble, start_tocsin: StartTocsin, postgres_url: str, clock: FakeClock
) -> None:
    double = people
    policy = Policy.model_validate(PAGING_POLICY)
    one = await start_tocsin(postgres_url, clock=clock, policy=policy)
    two = await start_tocsin(postgres_url, clock=clock, policy=policy)
    incidents = 50
    for n in range(incidents):
        await double.slash_command("U0ALICE", double.channel_named("general").id, f"declare sev1 Checkout {n}")
    await settle(one)
    await settle(two)
    for minutes in (5, 10, 15, 5, 10, 15, 60):
        clock.advance(minutes=minutes)
        await asyncio.gather(timers_of(one).tick(), timers_of(two).tick(), timers_of(one).tick(), timers_of(two).tick())
        await settle(one)
        await settle(two)
    # 50 pages x (3 tiers x 2 rounds) = 300 steps; every (page, round, tier, person) notified once (in a storm
    # like this one most of them in digest DMs), and every page shown to each person it reached.
    paged = ("U0BOB", "U0CAROL", "U0DAVE", "U0ERIN")
    async with UnitOfWork(session_factory(one.engine)) as uow:
        assert uow._session is not None
        found = await uow._session.exec(select(PageNotificationRow))
        rows = [(r.page_id, r.round, r.tier, r.user_id) for r in found]
    assert max(Counter(rows).values()) == 1
    assert Counter(user for *_, user in rows) == {u: 2 * incidents for u in paged}
    for user in paged:
        blocks = [b for m in double.dm_messages(user) for b in m["blocks"]]
        shown = {b["block_id"] for b in blocks if b.get("block_id", "").startswith("page:")}
        assert len(shown) == incidents  # each of the 50 pages, in its own DM or a digest
        assert len(double.dm_messages(user)) < 2 * incidents  # a storm: digests, not a DM per step
    exhausted = [m for m in double.messages_in("#incidents") if "Nobody acknowledged" in m["text"]]
    assert len(exhausted) == incidents


async def test_the_scheduler_wakes_the_tick_on_its_own(
    double: SlackDouble, sqlite_url: str, start_tocsin: StartTocsin
) -> None:
    # The real clock and APScheduler: a one-second first-update window, ticking every 100 ms.
    from bot.app import build
    from tests.conftest import settings_for

    policy = Policy.model_validate({"first_update_within": "1s"})
    tocsin = await build(settings_for(double, sqlite_url), policy, post_interval=0, header_interval=0, tick_seconds=0.1)
    await tocsin.start()
    try:
        double.app_url = f"http://127.0.0.1:{tocsin.port}/slack/events"
        channel = await declare(double, tocsin, "declare sev1 Quick one")
        for _ in range(50):
            if nags(channel):
                break
            await asyncio.sleep(0.1)
        assert len(nags(channel)) == 1
    finally:
        await tocsin.stop(drain_seconds=5)


# ----- recording a tick ------------------------------------------------------------------------------
async def reminders_on(tocsin: Tocsin, number: int) -> int:
    return sum(e.kind is TimelineKind.REMINDER for e in await stored_timeline(tocsin, number))


async def test_one_slow_slack_call_does_not_hold_back_recording_the_others(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channels = [await declare(double, tocsin, f"declare sev2 Slow search {n}") for n in (1, 2)]
    clock.advance(minutes=15)
    timers_of(tocsin).record_within = 0.05
    double.fail_next("chat.postMessage", "ratelimited", retry_after=1)  # one nag waits out a 429
    ticking = asyncio.create_task(timers_of(tocsin).tick())
    recorded_early = False
    while not ticking.done() and not recorded_early:
        await asyncio.sleep(0.02)
        recorded_early = [await reminders_on(tocsin, n) for n in (1, 2)].count(1) == 1
    assert recorded_early and not ticking.done(), "the prompt nag was recorded only with the slow one"
    assert await ticking == 2
    await settle(tocsin)
    assert [await reminders_on(tocsin, n) for n in (1, 2)] == [1, 1]
    assert [len(nags(c)) for c in channels] == [1, 1]


async def test_when_recording_a_tick_together_fails_each_timer_is_recorded_alone(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.domain.timer_results import TimerResult
    from storage.timer_records import TimerRecords

    record = TimerRecords.record

    async def fails_for_more_than_one(self: TimerRecords, results: Sequence[TimerResult], *, token: str) -> list[bool]:
        if len(results) > 1:
            raise RuntimeError("one bad row spoils the batch")
        return await record(self, results, token=token)

    monkeypatch.setattr(TimerRecords, "record", fails_for_more_than_one)
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channels = [await declare(double, tocsin, f"declare sev2 Login loops {n}") for n in (1, 2)]
    clock.advance(minutes=15)
    assert await tick(tocsin) == 2
    clock.advance(minutes=2)  # past nothing new: had a nag gone unrecorded, its claim would fire again
    assert await tick(tocsin) == 0
    clock.advance(minutes=1, seconds=1)  # and the lease of a lost record would have run out by now
    assert await tick(tocsin) == 0
    assert [await reminders_on(tocsin, n) for n in (1, 2)] == [1, 1]
    assert [len(nags(c)) for c in channels] == [1, 1]


# ----- ack timeout and resolving ------------------------------------------------------------------------
ACK_TIMEOUT_POLICY = {
    **PAGING_POLICY,
    "escalation_policies": {"payments": {**PAGING_POLICY["escalation_policies"]["payments"], "ack_timeout": "30m"}},
}


def dm_channel(double: SlackDouble, user: str) -> Channel:
    return next(c for c in double.channels.values() if c.is_im and user in c.members)


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_an_acknowledged_page_not_resolved_in_time_escalates_again_unless_acknowledged_again(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(ACK_TIMEOUT_POLICY))
    channel = await declare(double, tocsin, "declare sev1 Checkout down")
    first = pages_to(double, "U0BOB")[0]
    await double.click("U0BOB", dm_channel(double, "U0BOB").id, first["ts"], "page_acknowledge")
    await settle(tocsin)
    (settled,) = double.dm_messages("U0BOB")
    assert "Acknowledged by <@U0BOB>" in settled["text"] and buttons(settled) == ["Acknowledge again"]
    # Still on it after 20 minutes: acknowledging again starts the 30 minutes over.
    clock.advance(minutes=20)
    await double.click("U0BOB", dm_channel(double, "U0BOB").id, settled["ts"], "page_acknowledge")
    await settle(tocsin)
    assert told(double, "U0BOB")[-1].startswith("Acknowledged again: unless it is resolved")
    clock.advance(minutes=29)
    await tick(tocsin)  # (the update reminder is due by now; the page is not)
    assert pages_to(double, "U0BOB") == [] and pages_to(double, "U0CAROL") == []
    clock.advance(minutes=1)  # 30 minutes since the last acknowledgement, and not resolved
    await tick(tocsin)
    notice = "ran out after 30m and it is not resolved, so the page is escalating again from the first tier"
    assert any(notice in m["text"] for m in channel.messages)
    assert any(notice in m["text"] for m in double.dm_messages("U0BOB"))  # whoever acknowledged is told
    assert len(pages_to(double, "U0BOB")) == 1  # and the first tier is paged again at once
    (was_settled,) = [m for m in double.dm_messages("U0BOB") if m["ts"] == settled["ts"]]
    assert "The acknowledgement ran out" in was_settled["text"] and buttons(was_settled) == []
    page_notes = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.PAGE]
    assert "Acknowledgement by <@U0BOB> timed out after 30m: the page escalates again from the first tier" in page_notes
    clock.advance(minutes=5)  # nobody answers this time: it escalates as before
    await tick(tocsin)
    assert len(pages_to(double, "U0CAROL")) == 1
    # Acknowledged again: the new DMs are the ones settled.
    await double.click(
        "U0CAROL", dm_channel(double, "U0CAROL").id, pages_to(double, "U0CAROL")[0]["ts"], "page_acknowledge"
    )
    await settle(tocsin)
    assert pages_to(double, "U0BOB") == [] and pages_to(double, "U0CAROL") == []


async def test_resolving_stops_paging_and_ack_timeouts(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(ACK_TIMEOUT_POLICY))
    escalating = await declare(double, tocsin, "declare sev1 Checkout down")
    acknowledged = await declare(double, tocsin, "declare sev1 Payment page broken")
    (for_acknowledged,) = [m for m in pages_to(double, "U0BOB") if "Payment page broken" in m["text"]]
    await double.click("U0BOB", dm_channel(double, "U0BOB").id, for_acknowledged["ts"], "page_acknowledge")
    await settle(tocsin)
    for channel in (escalating, acknowledged):
        await double.slash_command("U0ALICE", channel.id, "resolve Rolled back")
        await settle(tocsin)
    # The page nobody answered is stopped, and its DM says why; nobody is paged again.
    assert pages_to(double, "U0BOB") == []
    assert any("This page was cancelled: the incident was resolved." in m["text"] for m in double.dm_messages("U0BOB"))
    assert "Paging stopped: the incident was resolved (1 page(s) still escalating)" in [
        e.text for e in await stored_timeline(tocsin, 1)
    ]
    # The acknowledged one keeps its acknowledgement, and its DM loses the Acknowledge again button.
    (settled,) = [m for m in double.dm_messages("U0BOB") if "Payment page broken" in m["text"]]
    assert "Acknowledged by <@U0BOB>" in settled["text"] and buttons(settled) == []
    dms_before = len(double.dm_messages("U0BOB")) + len(double.dm_messages("U0CAROL"))
    clock.advance(hours=2)
    assert await tick(tocsin) == 0  # resolved: no reminders, no steps, no ack timeouts
    assert len(double.dm_messages("U0BOB")) + len(double.dm_messages("U0CAROL")) == dms_before
    assert not any("Nobody acknowledged" in m["text"] for m in escalating.messages)
    assert not any("escalating again" in m["text"] for m in acknowledged.messages)
