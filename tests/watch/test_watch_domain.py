"""Heartbeats and maintenance windows, the pure parts: recurring windows across daylight-saving changes,
what a window silences, a heartbeat's deadline and the alert a missed one raises (routed like any other),
and the policy's problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from pydantic import ValidationError

from bot.domain.alerts import decide
from bot.domain.heartbeats import HeartbeatState, deadline, missed_alert, recovered_alert
from bot.domain.maintenance import Window, next_occurrence, occurrences
from bot.domain.policy import Policy
from bot.domain.watch_policy import Heartbeat, RecurringMaintenance


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def weekly(day: str, start: str, duration: str = "2h", zone: str = "Europe/London") -> RecurringMaintenance:
    return RecurringMaintenance.model_validate(
        {"service": "checkout", "every": "weekly", "day": day, "start": start, "duration": duration, "timezone": zone}
    )


def test_a_weekly_window_keeps_its_wall_clock_time_across_the_spring_change() -> None:
    window = weekly("sun", "02:00")
    # London: 2027-03-28 is the last Sunday of March (the clocks go 01:00 GMT -> 02:00 BST).
    starts = [o.starts_at for o in islice(occurrences(window, utc(2027, 3, 15), default_zone="UTC"), 3)]
    assert starts == [utc(2027, 3, 21, 2), utc(2027, 3, 28, 1), utc(2027, 4, 4, 1)]


def test_a_weekly_window_keeps_its_wall_clock_time_across_the_autumn_change() -> None:
    window = weekly("sun", "03:00", zone="America/New_York")
    # New York: 2026-11-01 the clocks go back (02:00 EDT -> 01:00 EST).
    starts = [o.starts_at for o in islice(occurrences(window, utc(2026, 10, 20), default_zone="UTC"), 3)]
    assert starts == [utc(2026, 10, 25, 7), utc(2026, 11, 1, 8), utc(2026, 11, 8, 8)]


def test_a_start_in_the_spring_gap_moves_on_by_the_gap_and_lasts_its_real_duration() -> None:
    window = weekly("sun", "01:30", duration="1h")  # 01:30 does not exist in London on 2027-03-28
    found = next_occurrence(window, utc(2027, 3, 27), default_zone="UTC")
    assert found.starts_at == utc(2027, 3, 28, 1, 30)  # 02:30 BST, the clocks' reading one hour past the gap
    assert found.ends_at - found.starts_at == timedelta(hours=1)


def test_a_start_in_the_repeated_autumn_hour_is_the_first_one() -> None:
    window = weekly("sun", "01:30", duration="30m")  # London, 2026-10-25: 01:00-02:00 happens twice
    found = next_occurrence(window, utc(2026, 10, 24), default_zone="UTC")
    assert found.starts_at == utc(2026, 10, 25, 0, 30)  # 01:30 BST


def test_the_occurrence_running_now_is_the_next_one() -> None:
    window = RecurringMaintenance.model_validate(
        {"service": "checkout", "every": "daily", "start": "23:00", "duration": "3h"}
    )
    running = next_occurrence(window, utc(2026, 11, 24, 1), default_zone="UTC")
    assert (running.starts_at, running.ends_at) == (utc(2026, 11, 23, 23), utc(2026, 11, 24, 2))
    after = next_occurrence(window, utc(2026, 11, 24, 2), default_zone="UTC")
    assert after.starts_at == utc(2026, 11, 24, 23)


def test_the_policy_time_zone_is_used_when_the_window_names_none() -> None:
    window = RecurringMaintenance.model_validate(
        {"service": "checkout", "every": "daily", "start": "09:00", "duration": "1h"}
    )
    found = next_occurrence(window, utc(2026, 7, 1), default_zone="Europe/Paris")
    assert found.starts_at == utc(2026, 7, 1, 7)


def test_a_window_silences_alerts_but_lets_the_most_severe_declares_page_unless_it_says_otherwise() -> None:
    window = Window(1, "checkout", utc(2026, 1, 1, 10), utc(2026, 1, 1, 12), reason="upgrade")
    assert window.active_at(utc(2026, 1, 1, 11)) and not window.active_at(utc(2026, 1, 1, 12))
    assert window.silences(declared=False, most_severe=True)
    assert window.silences(declared=True, most_severe=False)
    assert not window.silences(declared=True, most_severe=True)
    strict = Window(2, "checkout", utc(2026, 1, 1, 10), utc(2026, 1, 1, 12), declares_page=False)
    assert strict.silences(declared=True, most_severe=True)
    ended = Window(3, "checkout", utc(2026, 1, 1, 10), utc(2026, 1, 1, 12), ended_at=utc(2026, 1, 1, 10, 30))
    assert not ended.active_at(utc(2026, 1, 1, 11))
    assert window.describe() == "checkout maintenance until 2026-01-01 12:00 UTC (upgrade)"


def test_a_heartbeat_is_due_its_period_and_grace_after_it_was_last_heard_or_first_known() -> None:
    beat = Heartbeat.model_validate({"every": "5m", "grace": "2m", "service": "checkout"})
    never = HeartbeatState("backup", since=utc(2026, 1, 1, 10))
    assert deadline(beat, never) == utc(2026, 1, 1, 10, 7)
    heard = HeartbeatState("backup", since=utc(2026, 1, 1, 10), last_seen_at=utc(2026, 1, 1, 11))
    assert deadline(beat, heard) == utc(2026, 1, 1, 11, 7)


def test_a_missed_heartbeat_is_routed_like_any_alert_and_its_recovery_is_the_same_alert() -> None:
    policy = Policy.model_validate(
        {
            "escalation_policies": {"payments": {"tiers": [{"notify": ["user:U1"], "after": "5m"}]}},
            "services": {"checkout": {"escalation_policy": "payments"}},
            "heartbeats": {"backup": {"every": "1h", "service": "checkout", "severity": "SEV1"}},
        }
    )
    beat = policy.heartbeats["backup"]
    missed = missed_alert("backup", beat, HeartbeatState("backup", utc(2026, 1, 1)), now=utc(2026, 1, 2))
    assert (missed.source, missed.group_key) == ("heartbeat", "backup")
    decision = decide(missed.alerts[0], policy)
    assert (decision.service, decision.severity, decision.escalation_policy) == ("checkout", "SEV1", "payments")
    resolved = recovered_alert("backup", beat)
    assert resolved.alerts[0].fingerprint == missed.alerts[0].fingerprint and not resolved.alerts[0].firing
    assert "never heard from" in missed.alerts[0].description


def test_the_policy_names_unknown_services_and_severities_as_problems() -> None:
    with pytest.raises(ValidationError) as raised:
        Policy.model_validate(
            {
                "heartbeats": {"backup": {"every": "1h", "service": "nope", "severity": "SEV9"}},
                "maintenance": [{"service": "gone", "every": "daily", "start": "02:00", "duration": "1h"}],
            }
        )
    text = str(raised.value)
    assert "heartbeats.backup.service: unknown service 'nope'" in text
    assert "heartbeats.backup.severity: 'SEV9' is not a severity" in text
    assert "maintenance[0].service: unknown service 'gone'" in text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"every": "weekly", "start": "02:00", "duration": "1h"}, "needs its day"),
        ({"every": "weekly", "day": "someday", "start": "02:00", "duration": "1h"}, "is not a day"),
        ({"every": "daily", "start": "25:00", "duration": "1h"}, "is not a time of day"),
        ({"every": "daily", "start": "02:00", "duration": "2d"}, "lasts at most 1d"),
        ({"every": "daily", "start": "02:00", "duration": "1h", "timezone": "Mars/Base"}, "IANA"),
    ],
)
def test_a_recurring_window_written_wrongly_is_refused_with_the_reason(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RecurringMaintenance.model_validate({"service": "checkout", **values})


def test_an_edited_window_gets_a_new_key_but_a_new_reason_does_not() -> None:
    window = weekly("sun", "02:00")
    assert weekly("sun", "03:00").key != window.key
    assert window.model_copy(update={"reason": "other"}).key == window.key
