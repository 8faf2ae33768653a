"""Who may see a private incident: Slack's member list, remembered briefly, failing closed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import TimelineEntry, TimelineKind
from bot.domain.summary import RECENT_SHOWN, summarise
from bot.runtime.member_cache import MemberCache
from bot.usecases.visibility import Visibility
from tests.service.fakes import RecordingSlack, an_incident


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_members_are_asked_of_slack_once_within_the_ttl_and_again_after_it_or_a_change() -> None:
    slack, seconds = RecordingSlack(), Ticking()
    slack.members["C1"] = {"U1"}
    visibility = Visibility(slack, members=MemberCache(30, seconds))
    incident = an_incident(private=True, channel_id="C1")
    assert await visibility.may_see(incident, "U1") and not await visibility.may_see(incident, "U2")
    assert len(slack.made("channel_members")) == 1
    slack.members["C1"].add("U2")
    seconds.now = 29
    assert not await visibility.may_see(incident, "U2")  # still the remembered list
    seconds.now = 31
    assert await visibility.may_see(incident, "U2")
    slack.members["C1"].discard("U2")
    visibility.forget("C1")
    assert not await visibility.may_see(incident, "U2")
    assert len(slack.made("channel_members")) == 3


async def test_public_incidents_need_no_question_and_unknown_membership_hides() -> None:
    slack = RecordingSlack()
    slack.unreadable.add("C1")
    visibility = Visibility(slack)
    assert await visibility.may_see(an_incident(channel_id="C1"), "U9")
    assert not await visibility.may_see(an_incident(private=True, channel_id="C1"), "U1")
    before_channel = an_incident(private=True, channel_id=None)
    assert await visibility.may_see(before_channel, before_channel.declared_by)
    assert not await visibility.may_see(before_channel, "U9")
    audience = await visibility.audience("U9", [an_incident(id=5, private=True, channel_id=None), an_incident(id=6)])
    assert audience.member_of == frozenset()


def test_the_summary_keeps_the_last_people_entries_and_the_last_update() -> None:
    at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    newest_first = [TimelineEntry(TimelineKind.NOTE, at, "U1", f"note {n}") for n in range(9, 2, -1)]
    newest_first.insert(3, TimelineEntry(TimelineKind.ALERT, at, "U0BOT", "declared from an alert"))
    newest_first.append(TimelineEntry(TimelineKind.UPDATE, at, "U1", "the last update"))
    item = FollowUp(id=1, incident_id=1, incident_number=7, text="t", owner=None, due_on=None, created_by="U1",
                    created_at=at)  # fmt: skip
    summary = summarise(
        an_incident(), latest=newest_first, follow_ups=[item], pages=[], runbooks=[], now=at, automatic_actor="U0BOT"
    )
    assert [e.text for e in summary.recent] == [f"note {n}" for n in range(9 - RECENT_SHOWN + 1, 10)]
    assert summary.last_update is not None and summary.last_update.text == "the last update"
    assert summary.open_follow_ups == (item,)
