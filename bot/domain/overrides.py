"""Overrides made from Slack: when and for how long, as people type them in a schedule's time zone, and
whether a take, give or swap may be made. Refused, with a reason people understand, when it starts in the
past, overlaps another override made from Slack for that schedule, is too long or too far ahead, or the
giver does not hold that shift. Pure.

A moment is `now`, a time today (`14:00`), a day (`tomorrow`, `fri`, `2026-12-01`) with or without a time,
or `2026-12-01T14:00`, on the schedule's wall clock. Without a length, a moment means "from then to the
end of that turn", and a day alone means the turn that starts that day (else that day of the turn under
way), so `give primary @bob tue` gives away Tuesday's shift whatever the rotation.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.durations import format_duration, parse_duration
from bot.domain.errors import UserError
from bot.domain.oncall import Shift, shifts
from bot.domain.policy import Schedule
from bot.domain.shift_values import StoredOverride
from bot.domain.user_refs import Directory, is_email

MAX_LENGTH = timedelta(days=31)  # the longest override made from Slack (longer ones belong in tocsin.yml)
MAX_AHEAD = timedelta(days=90)  # how far ahead one may start (the calendar feeds' reach)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})t(\d{1,2}:\d{2})$")
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAY_WORDS = {"today", "tomorrow", *_WEEKDAYS}
WHEN_HELP = "now, 14:00, tomorrow 09:00, fri, 2026-12-01 or 2026-12-01 09:00"


@dataclass(frozen=True, slots=True)
class When:
    """A moment someone named: `at` (UTC); `day` when only a day was named; `now` when they said now."""

    at: datetime
    day: date | None = None
    now: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of time [start, end)."""

    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) shares any time with this window."""
        return self.start < end and start < self.end


def take_when(words: Sequence[str]) -> tuple[str, list[str]]:
    """The words at the head of `words` naming a moment (one word, or a day and a time) and the words after
    them; UserError when the head names no moment."""
    if not words:
        raise UserError(f"Say when: {WHEN_HELP}.")
    first = words[0].lower()
    if first == "now" or _TIME.match(first) or _DATE_TIME.match(first):
        return first, list(words[1:])
    if _DATE.match(first) or first in _DAY_WORDS:
        if len(words) > 1 and _TIME.match(words[1]):
            return f"{first} {words[1]}", list(words[2:])
        return first, list(words[1:])
    raise UserError(f"That isn't a time I understand; write {WHEN_HELP} (in the schedule's time zone).")


def parse_length(text: str) -> timedelta:
    """How long, written like the policy's durations (`4h`, `2d`, `1h30m`); UserError otherwise."""
    try:
        length = parse_duration(text)
    except ValueError:
        raise UserError("Write how long like 4h, 2d or 1h30m.") from None
    if length <= timedelta(0):
        raise UserError("An override has to last longer than 0s.")
    return length


def resolve_when(text: str, zone: ZoneInfo, now: datetime) -> When:
    """The moment `text` (as `take_when` found it) names on the `zone` wall clock, seen at `now`."""
    head, _, clock = text.lower().partition(" ")
    if head == "now":
        return When(now, now=True)
    today = now.astimezone(zone).date()
    if match := _DATE_TIME.match(head):
        return When(_local(_date(match.group(1)), match.group(2), zone))
    if _TIME.match(head):
        return When(_local(today, head, zone))
    if head == "today":
        day = today
    elif head == "tomorrow":
        day = today + timedelta(days=1)
    elif head in _WEEKDAYS:
        day = today + timedelta(days=(_WEEKDAYS.index(head) - today.weekday()) % 7)
    else:
        day = _date(head)
    if clock:
        return When(_local(day, clock, zone))
    return When(datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC), day=day)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("That date doesn't exist; write it like 2026-12-01.") from None


def _local(day: date, clock: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


def turns(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Each person's unbroken time holding `schedule` over [start, end), whether by rotation or override."""
    merged: list[Shift] = []
    for shift in shifts(schedule, start, end):
        last = merged[-1] if merged else None
        if last is not None and last.user == shift.user and last.end == shift.start:
            merged[-1] = Shift(last.user, last.start, shift.end)
        else:
            merged.append(Shift(shift.user, shift.start, shift.end))
    return merged


def named_window(
    schedule: Schedule,
    when: When,
    length: timedelta | None,
    *,
    now: datetime,
    holder: str | None = None,
    directory: Directory | None = None,
) -> Window:
    """The window `when` (and `length`) name: with a length, from the moment for that long; else to the end
    of the turn (of `holder`, or of whoever holds it) under way then, or the day's turn for a day alone.
    A day's turn already under way starts now (check_window refuses an explicit moment in the past)."""
    directory = directory or Directory()
    if length is not None:
        window = Window(when.at, when.at + length)
    elif when.day is not None:
        window = _day_turn(schedule, when, holder, directory)
    else:
        found = _turn_at(schedule, when.at)
        if holder is not None and (found is None or not directory.names(found.user, holder)):
            raise UserError(f"{person(holder)} isn't on call then.")
        window = Window(when.at, found.end if found else _gap_end(schedule, when.at))
    if when.day is not None and window.start < now < window.end:
        window = Window(now, window.end)  # a day's turn already under way: the rest of it
    return window


def _turn_at(schedule: Schedule, at: datetime) -> Shift | None:
    return next((t for t in turns(schedule, at, at + timedelta(seconds=1)) if t.start <= at < t.end), None)


def _gap_end(schedule: Schedule, at: datetime) -> datetime:
    ahead = turns(schedule, at, at + MAX_LENGTH)
    return ahead[0].start if ahead else at + MAX_LENGTH


def _day_turn(schedule: Schedule, when: When, holder: str | None, directory: Directory) -> Window:
    assert when.day is not None
    day_end = datetime.combine(when.day + timedelta(days=1), time(0), tzinfo=schedule.zone).astimezone(UTC)
    mine = [t for t in turns(schedule, when.at, day_end) if holder is None or directory.names(t.user, holder)]
    starting = next((t for t in mine if when.at <= t.start < day_end), None)
    if starting is not None:
        return Window(starting.start, starting.end)
    if mine:
        return Window(max(mine[0].start, when.at), min(mine[0].end, day_end))
    if holder is not None:
        raise UserError(f"{person(holder)} isn't on call on {when.day:%a %d %b}.")
    return Window(when.at, day_end)


def check_window(window: Window, *, name: str, stored: Sequence[StoredOverride], zone: ZoneInfo, now: datetime) -> None:
    """UserError saying why an override over `window` of schedule `name` cannot be made: it is (or starts)
    in the past, is too long, starts too far ahead, or overlaps an override made from Slack."""
    if window.end <= now:
        raise UserError(f"That shift is over already (it's {local_text(now, zone)} now).")
    if window.start < now:
        raise UserError(f"That starts in the past: it's {local_text(now, zone)} now, so pick a later time.")
    if window.end - window.start > MAX_LENGTH:
        raise UserError(
            f"That's {format_duration(window.end - window.start)}; overrides made from Slack last at most "
            f"{MAX_LENGTH.days} days (longer ones belong in tocsin.yml)."
        )
    if window.start > now + MAX_AHEAD:
        raise UserError(f"That's more than {MAX_AHEAD.days} days ahead; ask again nearer the time.")
    for other in stored:
        if other.schedule == name and other.removed_at is None and window.overlaps(other.start, other.end):
            raise UserError(
                f"That overlaps override #{other.id} ({person(other.user)} from {local_text(other.start, zone)} "
                f"to {local_text(other.end, zone)}): remove it first with `/incident oncall remove {other.id}`."
            )


def check_holds(schedule: Schedule, user: str, window: Window, directory: Directory) -> None:
    """UserError unless `user` holds `schedule` throughout `window` (the giver of a shift must)."""
    covered = window.start
    for turn in turns(schedule, window.start, window.end):
        if turn.start > covered:
            break
        if not directory.names(turn.user, user):
            raise UserError(
                f"{person(user)} isn't on call for that whole time: {person(turn.user)} is from "
                f"{local_text(max(turn.start, window.start), schedule.zone)}."
            )
        covered = turn.end
        if covered >= window.end:
            return
    raise UserError(
        f"{person(user)} isn't on call for that whole time: nobody is from {local_text(covered, schedule.zone)}."
    )


def replaced(schedule: Schedule, window: Window) -> str | None:
    """Whose shift `window` is, when it is one person's throughout (None for several, or a gap)."""
    found = turns(schedule, window.start, window.end)
    if found and found[0].start <= window.start and found[-1].end >= window.end and len(found) == 1:
        return found[0].user
    return None


def holds_anywhere(schedule: Schedule, user: str, window: Window, directory: Directory) -> bool:
    """Whether `user` holds `schedule` for any of `window` (taking your own shift is refused)."""
    return any(directory.names(t.user, user) for t in turns(schedule, window.start, window.end))


def person(ref: str) -> str:
    """A user reference for a message: a mention for an ID, the address for an e-mail."""
    return ref if is_email(ref) else f"<@{ref}>"


def local_text(at: datetime, zone: ZoneInfo) -> str:
    """A moment on a schedule's wall clock, e.g. `Mon 30 Nov 09:00 GMT`."""
    return at.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def window_text(window: Window, zone: ZoneInfo) -> str:
    """A window on a schedule's wall clock, e.g. `Mon 30 Nov 09:00 GMT to Tue 01 Dec 09:00 GMT`."""
    return f"{local_text(window.start, zone)} to {local_text(window.end, zone)}"


def disjoint(windows: Sequence[Window]) -> bool:
    """Whether no two of `windows` overlap."""
    return not any(a.overlaps(b.start, b.end) for a, b in itertools.combinations(windows, 2))
