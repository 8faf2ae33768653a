"""Maintenance windows: one made from Slack or one occurrence of the policy's recurring ones, whether it is
active at a time and what it silences, and when a recurring window next comes round. Pure.

A recurring window starts at its wall-clock time in its time zone, whatever the offset that day (so a 02:00
window in Europe/London starts at 02:00 GMT in winter and 02:00 BST in summer) and lasts its duration of
real time. A start that falls in a spring-forward gap (02:30 on the night the clocks skip 02:00-03:00)
starts when the clocks read the same distance past the gap (03:30); one the clocks pass twice (the
autumn's repeated hour) starts the first time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.watch_policy import DAYS, RecurringMaintenance

SLACK = "slack"
POLICY = "policy"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """When one occurrence of a recurring window runs (UTC)."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class NewWindow:
    """A window to store: made from Slack (`created_by`) or an occurrence of the policy's (`recurring_key`)."""

    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    created_by: str | None = None
    recurring_key: str | None = None
    declares_page: bool = True

    @property
    def source(self) -> str:
        """`slack` or `policy`."""
        return POLICY if self.recurring_key is not None else SLACK


@dataclass(frozen=True, slots=True)
class Window:
    """A stored window (`ended_at`: when it was ended early, if it was)."""

    id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    created_by: str | None = None
    recurring_key: str | None = None
    declares_page: bool = True
    ended_at: datetime | None = None

    @property
    def until(self) -> datetime:
        """When it stops silencing: its end, or when it was ended early."""
        return self.ends_at if self.ended_at is None else min(self.ends_at, self.ended_at)

    def active_at(self, at: datetime) -> bool:
        """Whether it silences anything at `at`."""
        return self.starts_at <= at < self.until

    def silences(self, *, declared: bool, most_severe: bool) -> bool:
        """Whether, while active, it silences a page: every alert's; a declared incident's unless the
        incident is at the most severe severity and the window lets such declares page."""
        return not (declared and most_severe and self.declares_page)

    def describe(self) -> str:
        """Plain text for people: `checkout maintenance until 2026-12-06 04:00 UTC (kernel upgrades)`."""
        reason = f" ({self.reason})" if self.reason else ""
        return f"{self.service} maintenance until {self.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC{reason}"


def next_occurrence(window: RecurringMaintenance, at: datetime, *, default_zone: str) -> Occurrence:
    """The occurrence of `window` running at `at`, else the next one to start after it."""
    return next(o for o in occurrences(window, at - window.duration, default_zone=default_zone) if o.ends_at > at)


def occurrences(window: RecurringMaintenance, since: datetime, *, default_zone: str) -> Iterator[Occurrence]:
    """Every occurrence of `window` starting at or after `since`, in order."""
    zone = ZoneInfo(window.timezone or default_zone)
    day = since.astimezone(zone).date() - timedelta(days=1)
    while True:
        if window.every == "daily" or DAYS[day.weekday()] == window.day:
            starts_at = _wall_clock(day, window, zone)
            if starts_at >= since:
                yield Occurrence(starts_at, starts_at + window.duration)
        day += timedelta(days=1)


def _wall_clock(day: date, window: RecurringMaintenance, zone: ZoneInfo) -> datetime:
    """`window`'s start on `day` in `zone`, in UTC (a time in a gap moves on by the gap; a repeated one is
    its first)."""
    local = datetime.combine(day, window.clock_time, tzinfo=zone)  # fold=0: the offset before a change
    return local.astimezone(UTC)
