"""Status-update reminders as the timer tick fires them: an overdue update nags the channel (its comms
lead, else its commander), the next interval DMs the Incident Commander, and then nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackUnreachable
from bot.domain.incidents import IC_ROLE, NewIncident, Status, TimelineKind
from bot.domain.policy import Policy
from bot.domain.timer_results import Released, ReminderSent, TimerResult
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.reminders import Reminders
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, ScriptedSlack, an_incident, sqlite_database, timeline_texts

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    async with sqlite_database(tmp_path) as database:
        yield database


def reminders(slack: ScriptedSlack) -> Reminders:
    return Reminders(slack=slack, messages=messages, policy=Policy(), metrics=Metrics(), clock=FakeClock(NOW))


async def overdue_incident(storage: Callable[..., UnitOfWork]) -> int:
    """A SEV2 incident in #inc-1 whose first update is due at NOW (no comms lead)."""
    new = NewIncident(team_id="T1", title="Checkout errors", severity="SEV2", declared_by="U0ALICE", declare_key="k")
    async with storage() as uow:
        incident = await uow.incidents.add(new, number=1, now=NOW - timedelta(minutes=15), next_update_due=NOW)
        await uow.incidents.assign_role(incident.id, role=IC_ROLE, user_id="U0ALICE", by="U0ALICE", now=NOW)
        await uow.incidents.set_channel(incident.id, channel_id="C0INC1", channel_name="inc-1")
        await uow.commit()
    return incident.id


async def fire(storage: Callable[..., UnitOfWork], sender: Reminders, *, at: datetime) -> list[TimerResult]:
    """One tick: claim the due reminders, send them, record what they did."""
    async with storage() as uow:
        claimed = await uow.timers.claim(now=at, lease=LEASE, token="tick", limit=10)
        await uow.commit()
    results = [await sender.send(incident, now=at) for incident in claimed.reminders.values()]
    async with storage() as uow:
        await uow.timers.record(results, token="tick")
        await uow.commit()
    return results


async def test_the_channel_is_nagged_then_the_commander_messaged_then_nothing(uow: Callable[..., UnitOfWork]) -> None:
    storage, slack = uow, ScriptedSlack()
    sender = reminders(slack)
    incident_id = await overdue_incident(storage)
    (first,) = await fire(storage, sender, at=NOW)
    assert isinstance(first, ReminderSent) and first.next_at == NOW + Policy().first_update_within
    (nag,) = slack.made("post")
    assert nag.where == "C0INC1" and "<@U0ALICE>" in nag.text and "was due" in nag.text
    assert await fire(storage, sender, at=NOW + timedelta(minutes=14)) == []  # not due again yet
    (second,) = await fire(storage, sender, at=NOW + timedelta(minutes=15))
    assert isinstance(second, ReminderSent) and second.sent == 2 and second.next_at is None
    (dm,) = slack.made("dm")
    assert dm.where == "U0ALICE" and "no status update" in dm.text
    assert await fire(storage, sender, at=NOW + timedelta(days=1)) == []
    assert len(slack.made("post")) == 1 and len(slack.made("dm")) == 1
    notes = await timeline_texts(storage, incident_id, TimelineKind.REMINDER)
    assert notes == [
        "Update overdue: the channel was reminded",
        "Update still overdue: the Incident Commander was messaged",
    ]


async def test_the_comms_lead_is_the_one_nagged_and_after_an_update_the_severity_cadence_follows() -> None:
    slack = ScriptedSlack()
    incident = an_incident(
        channel_id="C0INC1", reminder_at=NOW, last_update_at=NOW - timedelta(minutes=30), status=Status.MONITORING
    )
    result = await reminders(slack).send(incident, now=NOW)
    assert isinstance(result, ReminderSent) and result.next_at == NOW + timedelta(minutes=30)  # SEV2's cadence
    (nag,) = slack.made("post")
    assert "<@U2>" in nag.text and "<@U1>" not in nag.text  # the comms lead, not the commander


async def test_a_closed_incident_or_one_with_nothing_due_releases_its_timer_silently() -> None:
    slack = ScriptedSlack()
    sender = reminders(slack)
    resolved = an_incident(channel_id="C0INC1", reminder_at=NOW, status=Status.RESOLVED)
    assert await sender.send(resolved, now=NOW) == Released("reminder", resolved.id)
    assert await sender.send(an_incident(reminder_at=None), now=NOW) == Released("reminder", 1)
    assert slack.calls == []


async def test_a_nag_slack_does_not_take_is_not_recorded_and_fires_again_after_the_lease(
    uow: Callable[..., UnitOfWork],
) -> None:
    storage, slack = uow, ScriptedSlack()
    sender = reminders(slack)
    incident_id = await overdue_incident(storage)
    slack.refuse("post", SlackUnreachable("TimeoutError"))
    with pytest.raises(SlackUnreachable):  # nothing recorded: the claim runs out and the timer fires again
        await fire(storage, sender, at=NOW)
    assert await timeline_texts(storage, incident_id, TimelineKind.REMINDER) == []
    slack.allow("post")
    (again,) = await fire(storage, sender, at=NOW + LEASE + timedelta(seconds=1))
    assert isinstance(again, ReminderSent) and again.sent == 1
    assert len(slack.made("post")) == 2
