"""Follow-up reminder times (DST-correct) and the Block Kit of follow-up lists and the stats message."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.domain.follow_ups import FollowUp, NewFollowUp, check_new, first_reminder, next_reminder
from bot.domain.stats import Durations, IncidentStats, SeverityStats
from bot.slack.blocks.follow_ups import follow_up_list
from bot.slack.blocks.stats import WEEKS_SHOWN, stats_message
from tests.slack_double.blockkit import validate_blocks

LONDON = ZoneInfo("Europe/London")


def test_the_first_reminder_is_nine_in_the_morning_local_on_the_due_date() -> None:
    assert first_reminder(date(2026, 7, 1), LONDON) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # BST
    assert first_reminder(date(2026, 12, 1), LONDON) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # GMT
    assert first_reminder(None, LONDON) is None


def test_weekly_reminders_keep_nine_local_across_a_clock_change() -> None:
    due = date(2026, 10, 20)  # BST; the clocks go back on 25 October
    sent = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    following = next_reminder(due, after=sent, zone=LONDON)
    assert following == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # 09:00 GMT
    assert following.astimezone(LONDON).hour == 9


def test_a_long_outage_gives_one_late_reminder_then_the_weekly_rhythm() -> None:
    due = date(2026, 11, 2)
    late = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert next_reminder(due, after=late, zone=LONDON) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_new_follow_ups_are_checked() -> None:
    today = date(2026, 11, 23)
    assert check_new(NewFollowUp("  add   an alert "), today=today).text == "add an alert"
    with pytest.raises(UserError, match="in the past"):
        check_new(NewFollowUp("x", due_on=date(2026, 11, 22)), today=today)
    with pytest.raises(UserError, match="needs a description"):
        check_new(NewFollowUp("   "), today=today)
    with pytest.raises(UserError, match="keep it to 500"):
        check_new(NewFollowUp("x" * 501), today=today)


def follow_up(n: int, **extra: object) -> FollowUp:
    values = {
        "id": n, "incident_id": 1, "incident_number": 7, "text": f"<!here> item {n} & more", "owner": "U1",
        "due_on": date(2026, 11, 20), "created_by": "U2", "created_at": datetime(2026, 11, 1, tzinfo=UTC),
    }  # fmt: skip
    values.update(extra)
    return FollowUp(**values)  # type: ignore[arg-type]


def test_a_long_follow_up_list_stays_within_limits_escapes_text_and_says_how_many_more() -> None:
    items = [follow_up(n) for n in range(1, 61)] + [follow_up(99, done_at=datetime(2026, 11, 2, tzinfo=UTC))]
    text, blocks = follow_up_list(items, heading="Open follow-ups", today=date(2026, 11, 23))
    assert validate_blocks(blocks) == []
    assert len(blocks) <= 50 and "… and 41 more" in blocks[-1]["elements"][0]["text"]
    assert "<!here>" not in text and "&lt;!here&gt; item 1 &amp; more — <@U1> · *overdue* since 2026-11-20" in text
    dones = [b["accessory"]["value"] for b in blocks if "accessory" in b]
    assert dones == [str(n) for n in range(1, 21)]


def test_the_stats_message_is_valid_block_kit_with_its_chart() -> None:
    stats = IncidentStats(
        since=datetime(2026, 10, 24, tzinfo=UTC),
        until=datetime(2026, 11, 23, tzinfo=UTC),
        total=3,
        by_severity=[
            SeverityStats("SEV1", 2, Durations(1, 600, 600), Durations(2, 240, 300), Durations(2, 5400, 5400)),
            SeverityStats("SEV3", 1),
        ],
        weekly={date(2026, 11, 16) - timedelta(weeks=w): {"SEV1": 1} for w in range(20)},
        weekly_mttr={date(2026, 11, 16): {"SEV1": 5400.0}},
        with_service=2,
        repeats=1,
        detected_via={"monitoring": 2, "customer": 1},
        open_follow_ups=4,
        overdue_follow_ups=1,
    )
    text, blocks = stats_message(stats, window="last 30 days", chart_file_id="F1")
    assert validate_blocks(blocks) == []
    assert "MTTD 10m median / 10m mean (1 with a known start)" in text
    assert "MTTA 4m / 5m (2 acknowledged) · MTTR 1h 30m / 1h 30m (2 resolved)" in text
    assert "*SEV3* · 1 incident\nMTTD n/a median / n/a mean" in text
    assert "monitoring 67% · customers 33% · internal 0%" in text and "*Repeat incidents* 50% (1 of 2" in text
    assert text.count("SEV1 1") == WEEKS_SHOWN
    assert blocks[-2] == {
        "type": "image",
        "slack_file": {"id": "F1"},
        "alt_text": "Mean time to resolve by severity, per week",
    }
