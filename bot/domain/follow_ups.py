"""Follow-ups (action items) as the domain sees them, and when their owners are reminded. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.incidents import reference

# Owners are reminded at this local time (the workspace's time zone) on the due date, then weekly.
REMIND_AT_LOCAL = time(9, 0)
REMIND_EVERY = timedelta(days=7)
MAX_FOLLOW_UP_LENGTH = 500


@dataclass(frozen=True, slots=True)
class FollowUp:
    """An action item from an incident."""

    id: int
    incident_id: int
    incident_number: int
    text: str
    owner: str | None
    due_on: date | None
    created_by: str
    created_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    remind_at: datetime | None = None  # the owner's next reminder (none once done)
    issue_key: str | None = None  # its issue in a tracker (`#12`, `OPS-7`), once made
    issue_url: str | None = None

    @property
    def is_open(self) -> bool:
        """Not done yet."""
        return self.done_at is None

    @property
    def incident_reference(self) -> str:
        """INC-n of the incident it came from."""
        return reference(self.incident_number)

    def is_overdue(self, today: date) -> bool:
        """Open and past its due date."""
        return self.is_open and self.due_on is not None and self.due_on < today


@dataclass(frozen=True, slots=True)
class NewFollowUp:
    """A follow-up as asked for."""

    text: str
    owner: str | None = None
    due_on: date | None = None


def check_new(item: NewFollowUp, *, today: date) -> NewFollowUp:
    """The follow-up with its text folded; UserError for an empty text or a due date in the past."""
    text = " ".join(item.text.split())
    if not text:
        raise UserError(
            "A follow-up needs a description, e.g. `/incident followup Add a pool alert @bob due 2026-12-01`."
        )
    if len(text) > MAX_FOLLOW_UP_LENGTH:
        raise UserError(f"That follow-up is {len(text)} characters; keep it to {MAX_FOLLOW_UP_LENGTH}.")
    if item.due_on is not None and item.due_on < today:
        raise UserError(f"The due date {item.due_on.isoformat()} is in the past.")
    return NewFollowUp(text=text, owner=item.owner, due_on=item.due_on)


def first_reminder(due_on: date | None, zone: ZoneInfo) -> datetime | None:
    """When the owner is first reminded: the due date at 09:00 in the workspace's time zone."""
    if due_on is None:
        return None
    return datetime.combine(due_on, REMIND_AT_LOCAL, tzinfo=zone)


def next_reminder(due_on: date, *, after: datetime, zone: ZoneInfo) -> datetime:
    """The first weekly reminder (09:00 local, on the due date's weekday) later than `after`.

    Computed from the due date rather than from the last reminder, so a bot that was down for weeks
    sends one late reminder, not one for every week it missed.
    """
    first = datetime.combine(due_on, REMIND_AT_LOCAL, tzinfo=zone)
    weeks = max(1, (after - first) // REMIND_EVERY + 1)
    candidate = datetime.combine(due_on + weeks * REMIND_EVERY, REMIND_AT_LOCAL, tzinfo=zone)
    while candidate <= after:  # a DST change can leave the first guess an hour short
        weeks += 1
        candidate = datetime.combine(due_on + weeks * REMIND_EVERY, REMIND_AT_LOCAL, tzinfo=zone)
    return candidate
