"""What Tocsin keeps of the on-call changes made from Slack: overrides, the requests that need the other
person's answer (give, swap), the audit list, and calendar feed scopes. Pure values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.policy import Override


class Via(StrEnum):
    """How an override came about."""

    TAKE = "take"  # someone took the shift themselves
    GIVE = "give"  # its holder gave it away, and the other person accepted
    SWAP = "swap"  # one of a swap's two halves


class RequestState(StrEnum):
    """Where a give or swap request stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REFUSED = "refused"  # accepted, but no longer possible (it overlaps, or the shift changed hands)
    EXPIRED = "expired"  # answered after it would have started


class LogAction(StrEnum):
    """What the audit list records."""

    TOOK = "took"
    GAVE = "gave"
    SWAPPED = "swapped"
    ASKED_GIVE = "asked_give"
    ASKED_SWAP = "asked_swap"
    DECLINED = "declined"
    REFUSED = "refused"
    EXPIRED = "expired"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class StoredOverride:
    """An override made from Slack (`replaces`: whose shift it was, when one person's)."""

    id: int
    schedule: str
    user: str
    start: datetime
    end: datetime
    via: Via
    created_by: str
    created_at: datetime
    replaces: str | None = None
    removed_at: datetime | None = None

    def as_policy(self) -> Override:
        """The override as the policy writes one (what the schedule maths reads)."""
        return Override(user=self.user, start=self.start, end=self.end)


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A give or a swap asked of `asked`: `requester`'s window [start, end) goes to them; for a swap,
    theirs [their_start, their_end) comes back. `from_now`: asked for "now", so it runs from the answer."""

    schedule: str
    kind: Via
    requester: str
    asked: str
    start: datetime
    end: datetime
    their_start: datetime | None = None
    their_end: datetime | None = None
    from_now: bool = False


@dataclass(frozen=True, slots=True)
class ShiftRequest:
    """A stored give or swap request and where it stands (`message`: the DM asking, channel and ts)."""

    id: int
    request: NewRequest
    state: RequestState
    created_at: datetime
    decided_at: datetime | None = None
    message: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the audit list: who did what to which schedule, for whom, over which window."""

    id: int
    schedule: str
    at: datetime
    actor: str
    action: LogAction
    user: str | None = None
    other: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    override_id: int | None = None
    request_id: int | None = None


def person_scope(user_id: str) -> str:
    """The calendar feed scope of one person's shifts."""
    return f"user:{user_id}"


def schedule_scope(name: str) -> str:
    """The calendar feed scope of one schedule."""
    return f"schedule:{name}"
