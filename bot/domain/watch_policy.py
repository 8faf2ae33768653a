"""The policy's heartbeats (`heartbeats:`: jobs that must check in, or an alert is raised) and recurring
maintenance windows (`maintenance:`). Pure."""

from __future__ import annotations

import hashlib
import re
from datetime import time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator

from bot.domain.durations import Duration
from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")  # within an event stream's 64 characters
MAX_WINDOW = timedelta(days=7)


class Heartbeat(StrictModel):
    """A heartbeat: `POST /heartbeats/<name>` at least every `every` (plus `grace`), or an alert is raised
    for `service` at `severity` through the alert routing."""

    every: Duration
    grace: Duration = timedelta(minutes=2)
    service: str | None = None
    severity: str = "SEV2"

    @field_validator("every")
    @classmethod
    def _some_time(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("must be at least 10s")
        return value

    @field_validator("grace")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value


class RecurringMaintenance(StrictModel):
    """A maintenance window that comes back: every day, or every week on `day`, from `start` (wall-clock time
    in `timezone`, the policy's when unset) for `duration`. While it lasts the service's alerts page nobody;
    a declared incident at the most severe severity still pages its on-call unless `declares_page` is false."""

    service: str
    every: Literal["daily", "weekly"] = "weekly"
    day: str | None = None  # mon … sun, for weekly windows
    start: str  # HH:MM
    duration: Duration
    timezone: str | None = None
    reason: str = ""
    declares_page: bool = True

    @field_validator("day")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        day = value.strip().lower()[:3]
        if day not in DAYS:
            raise ValueError(f"{value!r} is not a day; use one of {', '.join(DAYS)}")
        return day

    @field_validator("start")
    @classmethod
    def _a_clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value.strip()):
            raise ValueError(f"{value!r} is not a time of day; write it like 02:00")
        return value.strip()

    @field_validator("duration")
    @classmethod
    def _some_length(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= MAX_WINDOW:
            raise ValueError("must be longer than 0s and at most 7d")
        return value

    @field_validator("timezone")
    @classmethod
    def _a_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/London)") from None
        return value

    @model_validator(mode="after")
    def _weekly_needs_a_day(self) -> RecurringMaintenance:
        if self.every == "weekly" and self.day is None:
            raise ValueError("a weekly window needs its day (mon … sun)")
        if self.every == "daily" and self.duration > timedelta(days=1):
            raise ValueError("a daily window lasts at most 1d")
        return self

    @property
    def clock_time(self) -> time:
        """When each occurrence starts, on the wall clock."""
        hours, minutes = self.start.split(":")
        return time(int(hours), int(minutes))

    @property
    def key(self) -> str:
        """What identifies this window among the policy's (its reason aside): its occurrences are stored under
        it, so an edited window's planned occurrences are replaced."""
        shape = self.model_dump_json(exclude={"reason"})
        return "policy:" + hashlib.sha256(shape.encode()).hexdigest()[:16]


Heartbeats = dict[str, Heartbeat]
MaintenanceWindows = list[RecurringMaintenance]


def problems(policy: Policy) -> list[str]:
    """What in the policy's heartbeats and maintenance names something the rest of the policy does not have."""
    found: list[str] = []
    for name, beat in policy.heartbeats.items():
        where = f"heartbeats.{name}"
        if not _NAME.match(name):
            found.append(f"{where}: a name is 1-50 letters, digits, '.', '_' and '-' (it is part of a URL)")
        if beat.service is not None and beat.service not in policy.services:
            found.append(f"{where}.service: unknown service {beat.service!r}")
        if policy.severity_named(beat.severity) is None:
            found.append(f"{where}.severity: {beat.severity!r} is not a severity")
    for index, window in enumerate(policy.maintenance):
        if window.service not in policy.services:
            found.append(f"maintenance[{index}].service: unknown service {window.service!r}")
    return found
