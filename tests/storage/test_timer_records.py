"""The timer tick's storage on SQLite and PostgreSQL: claiming due timers (with what firing them needs)
under a lease, and recording a tick's results in one transaction, leaving overtaken timers alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.escalation import ACKNOWLEDGED, TRIGGERED, plan_for_user
from bot.domain.incidents import IC_ROLE, TimelineEntry, TimelineKind
from bot.domain.timer_results import AckTimedOut, FollowUpReminded, PageStepped, Released, ReminderSent
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import FollowUpRow, IncidentRow, PageRow, RoleAssignmentRow
from storage.timer_records import Claimed
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)

Units = Callable[[], UnitOfWork]  # a new unit of work on the test's database each call


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[Units]:
    """Units of work on a migrated database of each kind."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    sessions = session_factory(engine)
    yield lambda: UnitOfWork(sessions)
    await engine.dispose()


def stored_id(row: IncidentRow | PageRow | FollowUpRow) -> int:
    """A flushed row's primary key."""
    assert row.id is not None
    return row.id


async def seed(uow: Units) -> dict[str, int]:
    """Incident 1: reminder due, with an IC and a channel; incident 2: reminder not yet due. Pages on
    incident 1: one due; one acknowledged (no ack timeout); one not yet due; one acknowledged whose ack
    timeout is due. A follow-up of incident 1 due."""
    async with uow() as u:
        session = u._session
        assert session is not None
        incidents = [
            IncidentRow(
                team_id="T1",
                number=n,
                title=f"Incident {n}",
                severity="SEV2",
                status="investigating",
                declared_by="U0ALICE",
                declare_key=f"k{n}",
                declared_at=NOW - timedelta(hours=1),
                channel_id=f"C{n}",
                reminder_at=NOW - timedelta(seconds=1) if n == 1 else NOW + timedelta(minutes=5),
            )
            for n in (1, 2)
        ]
        session.add_all(incidents)
        await session.flush()
        first = stored_id(incidents[0])
        session.add(
            RoleAssignmentRow(incident_id=first, role=IC_ROLE, user_id="U0IC", assigned_by="U0ALICE", assigned_at=NOW)
        )

        def page(status: str, due: datetime | None) -> PageRow:
            return PageRow(
                team_id="T1",
                incident_id=first,
                title="INC-1: Incident 1",
                severity="SEV2",
                source="user:U0BOB",
                plan=plan_for_user("U0BOB").to_json(),
                status=status,
                next_step_at=due,
                created_by="U0ALICE",
                created_at=NOW,
            )

        pages = [
            page(TRIGGERED, NOW),
            page(ACKNOWLEDGED, None),
            page(TRIGGERED, NOW + timedelta(minutes=1)),
            page(ACKNOWLEDGED, NOW - timedelta(seconds=5)),
        ]
        session.add_all(pages)
        item = FollowUpRow(
            incident_id=first, text="Add a canary", owner="U0BOB", due_on=date(2026, 11, 23), created_by="U0ALICE",
            created_at=NOW, remind_at=NOW,
        )  # fmt: skip
        session.add(item)
        await session.flush()
        ids = {
            "incident": first,
            "page": stored_id(pages[0]),
            "follow_up": stored_id(item),
            "ack_timeout": stored_id(pages[3]),
        }
        await u.commit()
    return ids


async def claim(uow: Units, token: str, now: datetime = NOW) -> Claimed:
    async with uow() as u:
        claimed = await u.timers.claim(now=now, lease=LEASE, token=token, limit=50)
        await u.commit()
    return claimed


async def test_a_claim_takes_what_is_due_once_with_what_firing_needs_until_the_lease_ends(uow: Units) -> None:
    ids = await seed(uow)
    claimed = await claim(uow, "tick-a")
    assert list(claimed.reminders) == [ids["incident"]]
    assert sorted(claimed.pages) == [ids["page"], ids["ack_timeout"]]
    assert list(claimed.follow_ups) == [ids["follow_up"]] and len(claimed) == 4
    assert claimed.pages[ids["ack_timeout"]][0].status == ACKNOWLEDGED
    incident = claimed.reminders[ids["incident"]]
    assert (
        incident.commander == "U0IC"
        and incident.channel_id == "C1"
        and incident.reminder_at == NOW - timedelta(seconds=1)
    )
    page, channel = claimed.pages[ids["page"]]
    assert page.active and page.plan.name == "user:U0BOB" and channel == "C1"
    assert claimed.follow_ups[ids["follow_up"]].incident_number == 1
    # Another replica at the same moment finds nothing: the rows are leased.
    assert len(await claim(uow, "tick-b")) == 0
    # A tick that died leaves its claims to expire; then they are taken again.
    again = await claim(uow, "tick-c", now=NOW + LEASE + timedelta(seconds=1))
    assert set(again.reminders) == {ids["incident"]} and ids["page"] in again.pages


async def test_recording_moves_timers_on_and_leaves_overtaken_ones_alone(uow: Units) -> None:
    ids = await seed(uow)
    claimed = await claim(uow, "tick-a")
    incident = claimed.reminders[ids["incident"]]
    page, channel = claimed.pages[ids["page"]]
    # Meanwhile: an update resets the reminder, and Bob acknowledges the page.
    async with uow() as u:
        await u.incidents.set_update_due(incident.id, NOW + timedelta(minutes=30))
        assert await u.pages.acknowledge(page.id, user_id="U0BOB", now=NOW, reopens_at=None)
        await u.commit()
    assert incident.reminder_at is not None
    reminder = ReminderSent(
        incident_id=incident.id,
        due_at=incident.reminder_at,
        sent=1,
        next_at=NOW + timedelta(minutes=15),
        entry=TimelineEntry(TimelineKind.REMINDER, NOW, None, "Update overdue"),
        sent_at=NOW,
    )
    step = PageStepped(
        page=page,
        channel_id=channel,
        round=0,
        tier=0,
        notified=(("U0BOB", "D0BOB", "1.0001"),),
        next_tier=1,
        next_round=0,
        next_at=NOW + timedelta(minutes=5),
        exhausted=False,
        entry=TimelineEntry(TimelineKind.PAGE, NOW, None, "Paged <@U0BOB> (step 1 of 1)"),
        sent_at=NOW,
        steps=1,
    )
    item = claimed.follow_ups[ids["follow_up"]]
    reminded = FollowUpReminded(follow_up_id=item.id, due_at=NOW, next_at=NOW + timedelta(days=7), sent_at=NOW)
    async with uow() as u:
        taken = await u.timers.record([reminder, step, reminded], token="tick-a")
        await u.commit()
    assert taken == [False, False, True]
    async with uow() as u:
        after = await u.incidents.get(incident.id)
        timeline = [e.text for e in await u.incidents.timeline(incident.id)]
        stored = await u.pages.get(page.id)
        notified = await u.pages.notifications(page.id)
        follow_up = (await u.follow_ups.of_incident(incident.id))[0]
    assert after is not None and stored is not None
    # The update's new due time stands; the overtaken nag is not on the timeline.
    assert after.reminder_at == NOW + timedelta(minutes=30) and after.reminders_sent == 0
    assert "Update overdue" not in timeline
    # The page stays acknowledged, but the step that was sent is on record (to settle its DM).
    assert stored.status == ACKNOWLEDGED and stored.tier == 0
    assert "Paged <@U0BOB> (step 1 of 1)" in timeline
    assert [(n.user_id, n.channel, n.ts) for n in notified] == [("U0BOB", "D0BOB", "1.0001")]
    assert follow_up.remind_at == NOW + timedelta(days=7)
    # Recording the same step again (a retried tick) keeps one notification per person and step.
    async with uow() as u:
        await u.timers.record([step], token="tick-a")
        await u.commit()
        assert len(await u.pages.notifications(page.id)) == 1


async def test_a_recorded_step_moves_the_page_on_and_a_released_claim_is_free_at_once(uow: Units) -> None:
    ids = await seed(uow)
    claimed = await claim(uow, "tick-a")
    page, channel = claimed.pages[ids["page"]]
    exhausted = PageStepped(
        page=page,
        channel_id=channel,
        round=0,
        tier=1,
        notified=(),
        next_tier=page.tier,
        next_round=page.round,
        next_at=None,
        exhausted=True,
        entry=TimelineEntry(TimelineKind.PAGE, NOW, None, "Nobody acknowledged the page after 1 steps"),
        sent_at=NOW,
        steps=1,
    )
    async with uow() as u:
        taken = await u.timers.record(
            [exhausted, Released("reminder", ids["incident"]), Released("follow_up", ids["follow_up"])],
            token="tick-a",
        )
        await u.commit()
    assert taken == [True, True, True]
    async with uow() as u:
        stored = await u.pages.get(page.id)
        timeline = [e.text for e in await u.incidents.timeline(ids["incident"])]
    assert stored is not None and stored.status == "exhausted"
    assert timeline.count("Nobody acknowledged the page after 1 steps") == 1
    # Released: claimable again straight away, not after the lease; the exhausted page is not.
    again = await claim(uow, "tick-b")
    assert set(again.reminders) == {ids["incident"]} and set(again.follow_ups) == {ids["follow_up"]}
    assert again.pages == {}
    # A claim that is no longer ours changes nothing.
    async with uow() as u:
        assert await u.timers.record([exhausted], token="tick-a") == [False]
        await u.commit()


@pytest.mark.parametrize("renewed_meanwhile", [False, True])
async def test_a_due_ack_timeout_reopens_the_page_unless_acknowledged_again(
    uow: Units, renewed_meanwhile: bool
) -> None:
    ids = await seed(uow)
    claimed = await claim(uow, "tick-a")
    page, channel = claimed.pages[ids["ack_timeout"]]
    if renewed_meanwhile:
        async with uow() as u:
            assert await u.pages.renew_acknowledgement(page.id, reopens_at=NOW + timedelta(minutes=30))
            await u.commit()
    assert page.next_step_at is not None
    timed_out = AckTimedOut(
        page=page,
        channel_id=channel,
        due_at=page.next_step_at,
        notified=(),
        entry=TimelineEntry(TimelineKind.PAGE, NOW, None, "Acknowledgement timed out"),
        sent_at=NOW,
    )
    async with uow() as u:
        assert await u.timers.record([timed_out], token="tick-a") == [not renewed_meanwhile]
        await u.commit()
    async with uow() as u:
        stored = await u.pages.get(page.id)
        timeline = [e.text for e in await u.incidents.timeline(ids["incident"])]
    assert stored is not None
    if renewed_meanwhile:
        assert stored.status == ACKNOWLEDGED and stored.next_step_at == NOW + timedelta(minutes=30)
        assert "Acknowledgement timed out" not in timeline
    else:  # escalating again from the first tier, due at once
        assert (stored.status, stored.tier, stored.round, stored.acknowledged_by) == (TRIGGERED, 0, 0, None)
        assert stored.next_step_at == NOW and "Acknowledgement timed out" in timeline


async def test_resolving_stops_the_incidents_pages_and_ack_timeouts(uow: Units) -> None:
    ids = await seed(uow)
    async with uow() as u:
        cancelled, timeouts_stopped = await u.pages.stop_for_incident(ids["incident"])
        await u.commit()
    assert sorted(cancelled) == sorted([ids["page"], ids["page"] + 2])  # the two still escalating
    assert timeouts_stopped == [ids["ack_timeout"]]
    assert (await claim(uow, "tick-a", now=NOW + timedelta(hours=1))).pages == {}  # no step, no ack timeout
    async with uow() as u:
        stored = await u.pages.get(ids["ack_timeout"])
    assert stored is not None and stored.status == ACKNOWLEDGED


async def test_an_alert_resolving_stops_an_acknowledged_pages_ack_timeout(uow: Units) -> None:
    ids = await seed(uow)
    async with uow() as u:
        stopped = await u.pages.cancel(ids["ack_timeout"])
        await u.commit()
    assert stopped.cancelled == [] and stopped.timeouts_stopped == [ids["ack_timeout"]]  # nothing to cancel
    async with uow() as u:
        stored = await u.pages.get(ids["ack_timeout"])
    assert stored is not None and stored.status == ACKNOWLEDGED and stored.next_step_at is None
    assert ids["ack_timeout"] not in (await claim(uow, "tick-a", now=NOW + timedelta(hours=1))).pages
