"""Who is on call at an instant, when that changes, and where a schedule leaves nobody. Pure.

Daily and weekly rotations hand over at a wall-clock time, so they stay at 09:00 across daylight-saving
changes; rotations of a fixed length (`12h`) run in absolute time. Each layer reads its `hours` and
`handoff` on its own time zone's wall clock when it names one (follow-the-sun: London and Los Angeles
each keep their 09:00), else on the schedule's.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.durations import parse_duration
from bot.domain.policy import Layer, Schedule

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HANDOFF = re.compile(r"^(?:(\w{3})\s+)?(\d\d):(\d\d)$")


@dataclass(frozen=True, slots=True)
class Handoff:
    """The next change of who is on call."""

    at: datetime
    user: str | None


@dataclass(frozen=True, slots=True)
class Shift:
    """One person's unbroken turn holding a schedule (`override`: by an override, not by a rotation)."""

    user: str
    start: datetime
    end: datetime
    override: bool = False


SHIFT_REACH = timedelta(days=35)  # how far either side of a window `shifts` looks for a turn's true ends


def holder(schedule: Schedule, at: datetime) -> tuple[str | None, bool]:
    """Who is on call at `at` and whether by an override (the last override covering `at` beats every
    layer; else the last layer covering it); None in a gap."""
    for override in reversed(schedule.overrides):
        if override.start <= at < override.end:
            return override.user, True
    for layer in reversed(schedule.layers):
        user = _layer_user(layer, layer_zone(schedule, layer), at)
        if user is not None:
            return user, False
    return None, False


def on_call(schedule: Schedule, at: datetime) -> str | None:
    """The user on call at `at` (an override, else the last layer covering `at`), or None in a gap."""
    return holder(schedule, at)[0]


def shifts(schedule: Schedule, start: datetime, end: datetime, *, reach: timedelta = SHIFT_REACH) -> list[Shift]:
    """Who holds `schedule` over [start, end), in order: each person's unbroken turn (an override's apart
    from a rotation's), given whole when it began before `start` or runs past `end` (up to `reach` either
    side, so a turn keeps the same start whenever it is asked for); gaps are left out."""
    low, high = start - reach, end + reach
    # in UTC: moments on the wall clock would subtract as wall-clock times, an hour out across a DST change
    moments = [m.astimezone(UTC) for m in (low, *(m for m in _boundaries(schedule, low, high) if m < high), high)]
    turns: list[Shift] = []
    open_gap = False
    for begin, finish in itertools.pairwise(moments):
        user, by_override = holder(schedule, begin)
        if user is None:
            open_gap = True
            continue
        last = turns[-1] if turns else None
        if last is not None and not open_gap and (last.user, last.override) == (user, by_override):
            turns[-1] = Shift(user, last.start, finish, by_override)
        else:
            turns.append(Shift(user, begin, finish, by_override))
        open_gap = False
    return [t for t in turns if t.end > start and t.start < end]


def next_handoff(schedule: Schedule, at: datetime, *, horizon: timedelta = timedelta(days=35)) -> Handoff | None:
    """When the on-call person next changes after `at`, and to whom (None if not within `horizon`)."""
    current = on_call(schedule, at)
    for moment in _boundaries(schedule, at, at + horizon):
        who = on_call(schedule, moment)
        if who != current:
            return Handoff(moment, who)
    return None


def gaps(schedule: Schedule, start: datetime, *, days: int = 14) -> list[tuple[datetime, datetime]]:
    """Windows in the next `days` with nobody on call."""
    end = start + timedelta(days=days)
    moments = [start, *_boundaries(schedule, start, end), end]
    found: list[tuple[datetime, datetime]] = []
    for begin, finish in itertools.pairwise(moments):
        if begin < finish and on_call(schedule, begin) is None:
            if found and found[-1][1] == begin:
                found[-1] = (found[-1][0], finish)
            else:
                found.append((begin, finish))
    return found


def layer_zone(schedule: Schedule, layer: Layer) -> ZoneInfo:
    """The time zone whose wall clock `layer`'s hours and handoff are read on (its own, else the schedule's)."""
    return ZoneInfo(layer.timezone) if layer.timezone else schedule.zone


def _layer_user(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    local = at.astimezone(zone)
    if layer.hours is not None and not _covers(layer.hours, local.time()):
        return None
    return layer.users[_shift_index(layer, zone, at) % len(layer.users)]


def _handoff_parts(layer: Layer) -> tuple[int | None, time]:
    match = _HANDOFF.match(layer.handoff)
    assert match is not None  # the policy validated it
    day = _DAYS.index(match.group(1)) if match.group(1) else None
    return day, time(int(match.group(2)), int(match.group(3)))


def _first_handoff_date(layer: Layer) -> date:
    day, _ = _handoff_parts(layer)
    if day is None:
        return layer.start
    return layer.start + timedelta(days=(day - layer.start.weekday()) % 7)


def _shift_index(layer: Layer, zone: ZoneInfo, at: datetime) -> int:
    day, at_time = _handoff_parts(layer)
    if layer.rotation in ("daily", "weekly"):
        local = at.astimezone(zone)
        last = local.date()
        if layer.rotation == "weekly":
            assert day is not None
            last -= timedelta(days=(last.weekday() - day) % 7)
            if last == local.date() and local.time() < at_time:
                last -= timedelta(days=7)
            return (last - _first_handoff_date(layer)).days // 7
        if local.time() < at_time:
            last -= timedelta(days=1)
        return (last - _first_handoff_date(layer)).days
    anchor = datetime.combine(layer.start, at_time, tzinfo=zone).astimezone(UTC)
    return int((at - anchor) // parse_duration(layer.rotation))


def _minutes(hours: str) -> tuple[int, int]:
    """ "09:00-17:00" as minutes of the day (24:00 is 1440)."""
    first, second = (part.strip() for part in hours.split("-"))
    return tuple(int(h) * 60 + int(m) for h, m in (first.split(":"), second.split(":")))  # type: ignore[return-value]


def _covers(hours: str, moment: time) -> bool:
    start, end = _minutes(hours)
    minute = moment.hour * 60 + moment.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end  # crosses midnight


def _wall_clock(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """`minute` past midnight on `day`, on `zone`'s wall clock (1440 is the next midnight)."""
    extra, minute = divmod(minute, 1440)
    return datetime.combine(day + timedelta(days=extra), time(minute // 60, minute % 60), tzinfo=zone)


def _boundaries(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Every moment in (start, end] at which who is on call might change, in order."""
    moments: set[datetime] = set()
    for override in schedule.overrides:
        moments.update({override.start, override.end})
    for layer in schedule.layers:
        zone = layer_zone(schedule, layer)  # each layer's days and times are on its own wall clock
        first_day = start.astimezone(zone).date() - timedelta(days=1)
        last_day = end.astimezone(zone).date() + timedelta(days=1)
        day, at_time = _handoff_parts(layer)
        local_days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
        if layer.rotation in ("daily", "weekly"):
            for d in local_days:
                if day is None or d.weekday() == day:
                    moments.add(datetime.combine(d, at_time, tzinfo=zone))
        else:
            length = parse_duration(layer.rotation)
            # Fixed-length shifts run in absolute time: do the arithmetic in UTC, not on the wall clock.
            anchor = datetime.combine(layer.start, at_time, tzinfo=zone).astimezone(UTC)
            index = int((start - anchor) // length)
            moment = anchor + length * index
            while moment <= end:
                moments.add(moment)
                moment += length
        if layer.hours is not None:
            for minute in _minutes(layer.hours):
                moments.update(_wall_clock(d, minute, zone) for d in local_days)
    return sorted(m for m in moments if start < m <= end)
