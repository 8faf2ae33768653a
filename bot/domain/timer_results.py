"""What firing a timer did, as plain data: the tick sends first, then records every result of a
tick in one transaction (storage/timer_records.py), then lets each sender finish (metrics, and the
Slack messages that must wait until the database agrees)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.escalation import Page
from bot.domain.incidents import TimelineEntry

TimerKind = Literal["reminder", "page", "follow_up"]
Notified = tuple[str, str | None, str | None]  # (user, DM channel, message ts); no channel when the DM failed


@dataclass(frozen=True, slots=True)
class Released:
    """Nothing was due after all (the incident closed, the page was answered): give the claim back."""

    kind: TimerKind
    row_id: int


@dataclass(frozen=True, slots=True)
class ReminderSent:
    """An update reminder went out; `sent` counts the reminders for this due time, this one included."""

    incident_id: int
    due_at: datetime
    sent: int
    next_at: datetime | None
    entry: TimelineEntry
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class PageStepped:
    """A page's step: its tier was notified (`notified`), or, when `exhausted`, nobody is left to try.

    An exhausted page is announced only once the database has marked it so (never twice)."""

    page: Page
    channel_id: str | None
    round: int
    tier: int
    notified: tuple[Notified, ...]
    next_tier: int
    next_round: int
    next_at: datetime | None
    exhausted: bool
    entry: TimelineEntry | None
    sent_at: datetime
    steps: int


@dataclass(frozen=True, slots=True)
class AckTimedOut:
    """An acknowledged page was not resolved within its plan's ack_timeout: it escalates again from the
    first tier (PagerDuty's behaviour). Announced only once the database has re-opened it."""

    page: Page
    channel_id: str | None
    due_at: datetime
    notified: tuple[Notified, ...]  # the DMs that showed the acknowledgement, to say it ran out
    entry: TimelineEntry
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class FollowUpReminded:
    """A follow-up's owner was reminded; `next_at` is the next weekly reminder (None: no one to remind)."""

    follow_up_id: int
    due_at: datetime
    next_at: datetime | None
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class PageDeferred:
    """Slack could not be reached for any of a step's DMs: the step is not taken, and is tried again at
    `retry_at` (a page waits out a Slack outage rather than escalating past people it never reached)."""

    page_id: int
    retry_at: datetime
    reason: str


TimerResult = Released | ReminderSent | PageStepped | PageDeferred | AckTimedOut | FollowUpReminded
