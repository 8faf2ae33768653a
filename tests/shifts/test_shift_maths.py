"""Shifts as the schedule maths gives them, and overrides as people type them: turns across handoffs and
daylight-saving changes (a follow-the-sun schedule of London and Los Angeles, on the schedule's clock or
each layer on its own), moments on a schedule's wall clock, and the refusals (past, overlapping, too
long, not your shift) with their reasons. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.domain.escalation import Plan, Tier
from bot.domain.oncall import Handoff, Shift, gaps, next_handoff, on_call, shifts
from bot.domain.overrides import (
    Window,
    check_holds,
    check_window,
    named_window,
    parse_length,
    replaced,
    resolve_when,
    take_when,
)
from bot.domain.policy import Override, Schedule
from bot.domain.shift_values import StoredOverride, Via
from bot.domain.user_refs import Directory

LONDON = ZoneInfo("Europe/London")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# London covers 08:00-20:00 London time, Los Angeles the rest; each region rotates weekly on Mondays. No layer
# names a time zone, so both read the schedule's London clock.
FOLLOW_THE_SUN = Schedule.model_validate(
    {
        "timezone": "Europe/London",
        "layers": [
            {
                "name": "london",
                "rotation": "weekly",
                "handoff": "mon 08:00",
                "users": ["UL1", "UL2"],
                "start": "2026-03-02",
                "hours": "08:00-20:00",
            },
            {
                "name": "los-angeles",
                "rotation": "weekly",
                "handoff": "mon 20:00",
                "users": ["UA1", "UA2"],
                "start": "2026-03-02",
                "hours": "20:00-08:00",
            },
        ],
    }
)

WEEKLY = Schedule.model_validate(
    {
        "timezone": "Europe/London",
        "rotation": "weekly",
        "handoff": "mon 09:00",
        "users": ["UA", "UB"],
        "start": "2026-10-19",
    }
)


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    return [(s.start, s.user) for s in shifts(schedule, start, end) if start <= s.start < end]


def test_layers_without_a_time_zone_hand_over_at_the_same_schedule_hours_across_both_clock_changes() -> None:
    # Before 8 March both zones are on winter time: London 08:00 is 08:00 UTC, 20:00 is 20:00 UTC (12:00 in LA).
    assert handoffs(FOLLOW_THE_SUN, utc(2026, 3, 4), utc(2026, 3, 5)) == [
        (utc(2026, 3, 4, 8), "UL1"),
        (utc(2026, 3, 4, 20), "UA1"),
    ]
    # 8 March: Los Angeles moves to PDT, London does not yet; the handoff stays 20:00 London, so 13:00 in LA
    # (Los Angeles keeps its own 12:00 only when its layer names its time zone: the next test).
    turns = handoffs(FOLLOW_THE_SUN, utc(2026, 3, 11), utc(2026, 3, 12))
    assert turns == [(utc(2026, 3, 11, 8), "UL2"), (utc(2026, 3, 11, 20), "UA2")]
    assert turns[1][0].astimezone(LOS_ANGELES).hour == 13
    # 29 March: London moves to BST; 08:00 London is now 07:00 UTC and 20:00 is 19:00 UTC (12:00 in LA again).
    turns = handoffs(FOLLOW_THE_SUN, utc(2026, 3, 30), utc(2026, 3, 31))
    assert turns == [(utc(2026, 3, 30, 7), "UL1"), (utc(2026, 3, 30, 19), "UA1")]
    assert turns[1][0].astimezone(LOS_ANGELES).hour == 12
    # the clocks-change night itself: no gap and no double cover between Saturday 20:00 and Sunday 08:00
    night = shifts(FOLLOW_THE_SUN, utc(2026, 3, 28, 21), utc(2026, 3, 29, 6))
    assert [(s.user, s.start, s.end) for s in night] == [("UA2", utc(2026, 3, 28, 20), utc(2026, 3, 29, 7))]


# Each region works 09:00-17:00 on its own clock and rotates on its own Monday 09:00; the schedule's zone is
# used by neither layer.
OWN_CLOCKS = Schedule.model_validate(
    {
        "timezone": "UTC",
        "layers": [
            {
                "name": "london",
                "timezone": "Europe/London",
                "rotation": "weekly",
                "handoff": "mon 09:00",
                "users": ["UL1", "UL2"],
                "start": "2026-10-05",
                "hours": "09:00-17:00",
            },
            {
                "name": "los-angeles",
                "timezone": "America/Los_Angeles",
                "rotation": "weekly",
                "handoff": "mon 09:00",
                "users": ["UA1", "UA2"],
                "start": "2026-10-05",
                "hours": "09:00-17:00",
            },
        ],
    }
)


def a_day(schedule: Schedule, start: datetime) -> list[tuple[str, datetime, datetime]]:
    """Who holds the schedule over the 24 hours from `start` (06:00 UTC falls in a gap, so no turn is cut)."""
    return [(s.user, s.start, s.end) for s in shifts(schedule, start, start + timedelta(days=1))]


def test_each_layer_keeps_its_own_wall_clock_in_the_weeks_only_one_country_has_changed_its_clocks() -> None:
    # Both on summer time: 09:00 London is 08:00 UTC, 09:00 Los Angeles is 16:00 UTC.
    assert a_day(OWN_CLOCKS, utc(2026, 10, 21, 6)) == [
        ("UL1", utc(2026, 10, 21, 8), utc(2026, 10, 21, 16)),
        ("UA1", utc(2026, 10, 21, 16), utc(2026, 10, 22, 0)),
    ]
    # 25 October London leaves BST, Los Angeles keeps PDT until 1 November: London still starts at 09:00
    # London (now 09:00 UTC), Los Angeles still at 09:00 Los Angeles (16:00 UTC); in the hour both cover,
    # the later layer decides. The Monday handoff moved each region to its next person at its own 09:00.
    week = a_day(OWN_CLOCKS, utc(2026, 10, 28, 6))
    assert week == [
        ("UL2", utc(2026, 10, 28, 9), utc(2026, 10, 28, 16)),
        ("UA2", utc(2026, 10, 28, 16), utc(2026, 10, 29, 0)),
    ]
    assert [(start.astimezone(LONDON).hour, start.astimezone(LOS_ANGELES).hour) for _, start, _ in week] == [
        (9, 2),
        (16, 9),
    ]
    assert week[1][2].astimezone(LOS_ANGELES).hour == 17
    assert next_handoff(OWN_CLOCKS, utc(2026, 10, 28, 10)) == Handoff(utc(2026, 10, 28, 16), "UA2")
    # Both on winter time: 09:00 London is 09:00 UTC, 09:00 Los Angeles is 17:00 UTC.
    assert a_day(OWN_CLOCKS, utc(2026, 11, 4, 6)) == [
        ("UL1", utc(2026, 11, 4, 9), utc(2026, 11, 4, 17)),
        ("UA1", utc(2026, 11, 4, 17), utc(2026, 11, 5, 1)),
    ]
    assert gaps(OWN_CLOCKS, utc(2026, 11, 4, 6), days=1) == [
        (utc(2026, 11, 4, 6), utc(2026, 11, 4, 9)),
        (utc(2026, 11, 5, 1), utc(2026, 11, 5, 6)),
    ]
    # 14 March 2027 Los Angeles moves to PDT, London only on 28 March: Los Angeles starts at 16:00 UTC.
    assert a_day(OWN_CLOCKS, utc(2027, 3, 10, 6)) == [
        ("UL1", utc(2027, 3, 10, 9), utc(2027, 3, 10, 17)),
        ("UA1", utc(2027, 3, 10, 17), utc(2027, 3, 11, 1)),
    ]
    assert a_day(OWN_CLOCKS, utc(2027, 3, 17, 6)) == [
        ("UL2", utc(2027, 3, 17, 9), utc(2027, 3, 17, 16)),
        ("UA2", utc(2027, 3, 17, 16), utc(2027, 3, 18, 0)),
    ]
    assert on_call(OWN_CLOCKS, utc(2027, 3, 17, 8, 59)) is None  # 08:59 London, 01:59 Los Angeles
    assert on_call(OWN_CLOCKS, utc(2027, 3, 17, 23, 59)) == "UA2"  # 16:59 Los Angeles
    assert on_call(OWN_CLOCKS, utc(2027, 3, 18)) is None  # 17:00 Los Angeles
    # Both on summer time again from 28 March.
    assert a_day(OWN_CLOCKS, utc(2027, 3, 31, 6)) == [
        ("UL2", utc(2027, 3, 31, 8), utc(2027, 3, 31, 16)),
        ("UA2", utc(2027, 3, 31, 16), utc(2027, 4, 1, 0)),
    ]


def test_a_layer_s_time_zone_survives_a_page_s_snapshot_and_a_bad_one_is_refused() -> None:
    plan = Plan("support", 0, (Tier(("schedule:support",), timedelta(minutes=5)),), {"support": OWN_CLOCKS})
    loaded = Plan.from_json(plan.to_json()).schedules["support"]
    assert [layer.timezone for layer in loaded.layers] == ["Europe/London", "America/Los_Angeles"]
    assert loaded == OWN_CLOCKS
    assert on_call(loaded, utc(2027, 3, 17, 16, 30)) == "UA2"
    layer = {"rotation": "daily", "handoff": "09:00", "users": ["UA"], "timezone": "Mars/Olympus_Mons"}
    with pytest.raises(ValueError, match="'Mars/Olympus_Mons' is not an IANA time zone"):
        Schedule.model_validate({"layers": [layer]})


def test_the_weekly_handoff_follows_the_wall_clock_when_the_clocks_go_back() -> None:
    # 25 October 2026 London leaves BST: Monday 19 Oct 09:00 is 08:00 UTC, Monday 26 Oct 09:00 is 09:00 UTC.
    found = shifts(WEEKLY, utc(2026, 10, 20), utc(2026, 10, 28))
    assert [(s.user, s.start, s.end) for s in found] == [
        ("UA", utc(2026, 10, 19, 8), utc(2026, 10, 26, 9)),
        ("UB", utc(2026, 10, 26, 9), utc(2026, 11, 2, 9)),
    ]
    assert found[0].end - found[0].start == timedelta(days=7, hours=1)  # the week with the extra hour


def test_a_turn_is_given_whole_whenever_it_is_asked_for_and_overrides_are_marked() -> None:
    override = Override(user="UZ", start=utc(2026, 10, 21, 12), end=utc(2026, 10, 22, 12))
    covered = WEEKLY.model_copy(update={"overrides": [override]})
    found = shifts(covered, utc(2026, 10, 21), utc(2026, 10, 23))
    assert found == [
        Shift("UA", utc(2026, 10, 19, 8), utc(2026, 10, 21, 12)),
        Shift("UZ", utc(2026, 10, 21, 12), utc(2026, 10, 22, 12), override=True),
        Shift("UA", utc(2026, 10, 22, 12), utc(2026, 10, 26, 9)),
    ]
    later = shifts(covered, utc(2026, 10, 22, 18), utc(2026, 10, 23))
    assert later == [found[2]]  # the same start, so a calendar keeps the same event


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("now", utc(2026, 3, 27, 10, 30)),
        ("14:00", utc(2026, 3, 27, 14)),  # GMT still
        ("tomorrow 09:00", utc(2026, 3, 28, 9)),
        ("mon 09:00", utc(2026, 3, 30, 8)),  # BST from Sunday
        ("2026-03-29 09:00", utc(2026, 3, 29, 8)),
        ("2026-03-29t09:00", utc(2026, 3, 29, 8)),
        ("fri", utc(2026, 3, 27)),  # today is a Friday
        ("2026-04-01", utc(2026, 3, 31, 23)),  # a day starts at midnight London time
    ],
)
def test_moments_are_read_on_the_schedule_wall_clock(typed: str, expected: datetime) -> None:
    words, rest = take_when([*typed.split(), "4h"])
    assert rest == ["4h"]
    assert resolve_when(words, LONDON, utc(2026, 3, 27, 10, 30)).at == expected


def test_words_that_are_not_a_moment_or_a_length_are_refused() -> None:
    with pytest.raises(UserError, match="isn't a time"):
        take_when(["soon"])
    with pytest.raises(UserError, match="like 4h"):
        parse_length("a while")
    with pytest.raises(UserError, match="doesn't exist"):
        resolve_when("2026-02-30", LONDON, utc(2026, 1, 1))


def test_without_a_length_a_moment_runs_to_the_end_of_that_turn_and_a_day_means_that_day_s_turn() -> None:
    now = utc(2026, 10, 20, 10)
    window = named_window(WEEKLY, resolve_when("now", LONDON, now), None, now=now)
    assert window == Window(now, utc(2026, 10, 26, 9))
    window = named_window(WEEKLY, resolve_when("mon", LONDON, now), None, now=now)
    assert window == Window(utc(2026, 10, 26, 9), utc(2026, 11, 2, 9))  # the turn starting Monday
    window = named_window(WEEKLY, resolve_when("wed", LONDON, now), None, now=now)
    assert window == Window(utc(2026, 10, 20, 23), utc(2026, 10, 21, 23))  # that day of the week's turn
    window = named_window(WEEKLY, resolve_when("now", LONDON, now), timedelta(hours=4), now=now)
    assert window == Window(now, now + timedelta(hours=4))
    assert replaced(WEEKLY, window) == "UA"


def test_a_giver_must_hold_the_shift_they_give() -> None:
    now = utc(2026, 10, 20, 10)
    with pytest.raises(UserError, match="<@UB> isn't on call then"):
        named_window(WEEKLY, resolve_when("now", LONDON, now), None, now=now, holder="UB")
    across = Window(utc(2026, 10, 26, 8), utc(2026, 10, 26, 12))
    with pytest.raises(UserError, match="<@UA> isn't on call for that whole time: <@UB> is from Mon 26 Oct 09:00 GMT"):
        check_holds(WEEKLY, "UA", across, Directory())
    by_address = WEEKLY.model_copy(update={"layers": [WEEKLY.layers[0].model_copy(update={"users": ["a@x.io", "UB"]})]})
    check_holds(by_address, "UA", Window(now, now + timedelta(hours=1)), Directory({"a@x.io": "UA"}))


def stored(number: int, start: datetime, end: datetime, user: str = "UZ") -> StoredOverride:
    return StoredOverride(number, "primary", user, start, end, Via.TAKE, user, start)


def test_past_overlapping_too_long_and_too_far_ahead_are_refused_with_reasons() -> None:
    now = utc(2026, 10, 20, 10)

    def check(window: Window, *existing: StoredOverride) -> None:
        check_window(window, name="primary", stored=existing, zone=LONDON, now=now)

    with pytest.raises(UserError, match="starts in the past: it's Tue 20 Oct 11:00 BST now"):
        check(Window(now - timedelta(hours=1), now + timedelta(hours=1)))
    with pytest.raises(UserError, match="over already"):
        check(Window(now - timedelta(hours=2), now - timedelta(hours=1)))
    with pytest.raises(UserError, match="at most 31 days"):
        check(Window(now, now + timedelta(days=32)))
    with pytest.raises(UserError, match="more than 90 days ahead"):
        check(Window(now + timedelta(days=91), now + timedelta(days=92)))
    existing = stored(7, now + timedelta(hours=2), now + timedelta(hours=5))
    with pytest.raises(UserError, match=r"overlaps override #7 \(<@UZ> from Tue 20 Oct 13:00 BST.*oncall remove 7"):
        check(Window(now + timedelta(hours=4), now + timedelta(hours=6)), existing)
    check(Window(now + timedelta(hours=5), now + timedelta(hours=6)), existing)  # touching is not overlapping
    other_schedule = StoredOverride(8, "secondary", "UZ", now, now + timedelta(days=1), Via.TAKE, "UZ", now)
    check(Window(now, now + timedelta(hours=1)), other_schedule)


def test_on_call_still_answers_as_before() -> None:
    assert on_call(WEEKLY, utc(2026, 10, 26, 8, 59)) == "UA"
    assert on_call(WEEKLY, utc(2026, 10, 26, 9)) == "UB"
