"""Who is on call: rotations, daylight saving, layers (follow-the-sun), overrides, gaps."""

from datetime import UTC, datetime

import pytest

from bot.domain.oncall import gaps, next_handoff, on_call
from bot.domain.policy import Schedule


def schedule(**values: object) -> Schedule:
    return Schedule.model_validate(values)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


WEEKLY_LONDON = schedule(
    timezone="Europe/London", rotation="weekly", handoff="mon 09:00", users=["UA", "UB", "UC"], start="2026-01-05"
)


def test_weekly_rotation_hands_over_at_nine_local_time() -> None:
    # 2026-01-05 is a Monday: UA from 09:00 that day, UB from the next Monday 09:00 (GMT = UTC).
    assert on_call(WEEKLY_LONDON, utc(2026, 1, 5, 9, 0)) == "UA"
    assert on_call(WEEKLY_LONDON, utc(2026, 1, 12, 8, 59)) == "UA"
    assert on_call(WEEKLY_LONDON, utc(2026, 1, 12, 9, 0)) == "UB"
    assert on_call(WEEKLY_LONDON, utc(2026, 1, 19, 9, 0)) == "UC"
    assert on_call(WEEKLY_LONDON, utc(2026, 1, 26, 9, 0)) == "UA"


def test_handoff_stays_at_nine_local_across_daylight_saving() -> None:
    # BST starts 2026-03-29; Monday 2026-03-30 09:00 London is 08:00 UTC.
    before = on_call(WEEKLY_LONDON, utc(2026, 3, 30, 7, 59))
    after = on_call(WEEKLY_LONDON, utc(2026, 3, 30, 8, 0))
    assert before != after
    handoff = next_handoff(WEEKLY_LONDON, utc(2026, 3, 27, 12, 0))
    assert handoff is not None and handoff.at == utc(2026, 3, 30, 8, 0) and handoff.user == after
    # and back: GMT from 2026-10-25; Monday 2026-10-26 09:00 London is 09:00 UTC
    handoff = next_handoff(WEEKLY_LONDON, utc(2026, 10, 23, 12, 0))
    assert handoff is not None and handoff.at == utc(2026, 10, 26, 9, 0)


def test_daily_rotation() -> None:
    daily = schedule(
        timezone="America/New_York", rotation="daily", handoff="08:00", users=["UA", "UB"], start="2026-03-07"
    )
    # 2026-03-08: US DST starts; 08:00 EDT is 12:00 UTC, the day before 08:00 EST is 13:00 UTC.
    assert on_call(daily, utc(2026, 3, 7, 13, 0)) == "UA"
    assert on_call(daily, utc(2026, 3, 8, 11, 59)) == "UA"
    assert on_call(daily, utc(2026, 3, 8, 12, 0)) == "UB"


def test_fixed_length_rotation_runs_in_absolute_time() -> None:
    twelve = schedule(timezone="Europe/London", rotation="12h", handoff="09:00", users=["UA", "UB"], start="2026-03-28")
    # starts 2026-03-28 09:00 GMT (09:00 UTC); the clocks change at 01:00 UTC on the 29th
    assert on_call(twelve, utc(2026, 3, 28, 9, 0)) == "UA"
    assert on_call(twelve, utc(2026, 3, 28, 21, 0)) == "UB"
    assert on_call(twelve, utc(2026, 3, 29, 9, 0)) == "UA"  # 24 real hours later, 10:00 local
    handoff = next_handoff(twelve, utc(2026, 3, 29, 10, 0))
    assert handoff is not None and handoff.at == utc(2026, 3, 29, 21, 0)


def test_overrides_beat_the_rotation_for_their_window() -> None:
    covered = schedule(
        rotation="daily",
        handoff="09:00",
        users=["UA"],
        overrides=[{"user": "UZ", "start": "2026-11-22T00:00:00Z", "end": "2026-11-23T00:00:00Z"}],
    )
    assert on_call(covered, utc(2026, 11, 21, 23, 59)) == "UA"
    assert on_call(covered, utc(2026, 11, 22, 12, 0)) == "UZ"
    assert on_call(covered, utc(2026, 11, 23, 0, 0)) == "UA"
    handoff = next_handoff(covered, utc(2026, 11, 21, 12, 0))
    assert handoff is not None and (handoff.at, handoff.user) == (utc(2026, 11, 22, 0, 0), "UZ")


FOLLOW_THE_SUN = schedule(
    timezone="UTC",
    layers=[
        {"name": "emea", "rotation": "weekly", "handoff": "mon 00:00", "users": ["UE1", "UE2"], "hours": "06:00-14:00"},
        {"name": "amer", "rotation": "weekly", "handoff": "mon 00:00", "users": ["UA1"], "hours": "14:00-22:00"},
        {"name": "apac", "rotation": "weekly", "handoff": "mon 00:00", "users": ["UP1"], "hours": "22:00-06:00"},
    ],
)


@pytest.mark.parametrize(("hour", "user"), [(6, "UE"), (13, "UE"), (14, "UA1"), (21, "UA1"), (22, "UP1"), (3, "UP1")])
def test_follow_the_sun_layers_cover_their_hours(hour: int, user: str) -> None:
    assert (on_call(FOLLOW_THE_SUN, utc(2026, 11, 18, hour, 30)) or "").startswith(user)


def test_follow_the_sun_has_no_gaps_and_a_missing_region_is_reported() -> None:
    assert gaps(FOLLOW_THE_SUN, utc(2026, 11, 16)) == []
    two_regions = schedule(timezone="UTC", layers=[dict(layer) for layer in FOLLOW_THE_SUN.model_dump()["layers"][:2]])
    found = gaps(two_regions, utc(2026, 11, 16), days=2)
    assert found[0] == (utc(2026, 11, 16, 0, 0), utc(2026, 11, 16, 6, 0))
    assert found[1] == (utc(2026, 11, 16, 22, 0), utc(2026, 11, 17, 6, 0))


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="names a day"):
        schedule(rotation="weekly", handoff="09:00", users=["UA"])
    with pytest.raises(ValueError, match="either users"):
        schedule(timezone="UTC")
    with pytest.raises(ValueError, match="must end after it starts"):
        schedule(
            users=["UA"], overrides=[{"user": "UB", "start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}]
        )


def test_a_snapshotted_plan_loads_back_unchanged() -> None:
    from bot.domain.escalation import Plan, plan_for_policy
    from bot.domain.policy import Policy

    policy = Policy.model_validate(
        {
            "schedules": {"primary": {"rotation": "daily", "handoff": "09:00", "users": ["UA", "UB"]}},
            "escalation_policies": {"p": {"repeat": 2, "tiers": [{"notify": ["schedule:primary"], "after": "45s"}]}},
        }
    )
    plan = plan_for_policy("p", policy)
    again = Plan.from_json(plan.to_json())
    assert again.to_json() == plan.to_json()
    assert on_call(again.schedules["primary"], utc(2026, 11, 23, 10)) == on_call(
        policy.schedules["primary"], utc(2026, 11, 23, 10)
    )
