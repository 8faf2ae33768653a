"""What a tracker (GitHub, GitLab, Jira, Linear) is to the use cases: a place where a follow-up becomes an
issue, is closed or reopened, and whose webhooks or polled state say when people closed it there.

Each kind has an adapter in bot/runtime/trackers/ speaking its real API; the use cases see only this.
Errors: `TrackerRefused` (the tracker answered no: a bad token, a missing project — not worth retrying
until someone changes something), `TrackerBusy` (a rate limit or the tracker's own trouble — retry, after
`retry_after` seconds when it said), `TrackerUnreachable` (no answer) — both retried with backoff.

NOTE for the Jira/Linear adapters (helper H): the values and errors (NewIssue, IssueRef, IssueChange,
IssueState, TrackerError and its three kinds) now live in bot/domain/tracker_issues.py, because
bot/runtime may not import bot.usecases (tests/architecture/test_layers.py). They are re-exported here
unchanged (same names, same fields); adapters import them from bot.domain.tracker_issues. The Tracker
protocol's signatures are unchanged. TrackerStore (below) is new: the use case's view of stored issues.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.tracker_issues import (
    FollowUpIssue,
    IssueChange,
    IssueRef,
    IssueState,
    NewIssue,
    TrackerBusy,
    TrackerError,
    TrackerRefused,
    TrackerUnreachable,
)

__all__ = [
    "FollowUpIssue",
    "IssueChange",
    "IssueRef",
    "IssueState",
    "NewIssue",
    "Tracker",
    "TrackerBusy",
    "TrackerError",
    "TrackerRefused",
    "TrackerStore",
    "TrackerUnreachable",
]


class Tracker(Protocol):
    """One configured tracker."""

    @property
    def name(self) -> str:
        """Its name in the policy's `trackers:`."""
        ...

    async def create_issue(self, issue: NewIssue) -> IssueRef:
        """Make the issue; raises a TrackerError."""
        ...

    async def set_state(self, issue_id: str, state: IssueState) -> None:
        """Close or reopen it (already so: nothing happens)."""
        ...

    async def state_of(self, issue_id: str) -> IssueState:
        """Its state now (the polling fallback)."""
        ...

    async def check(self) -> list[str]:
        """`tocsin check --trackers`: what the credentials can and cannot do, a line each."""
        ...

    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether an inbound webhook is really from this tracker (its own signature or token)."""
        ...

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> IssueChange | None:
        """What a verified webhook says about an issue's state (None: not about one)."""
        ...


class TrackerStore(Protocol):
    """Follow-ups' issues, and the polling fallback's leased timers (`uow.trackers`). Never commits."""

    async def issue_of(self, follow_up_id: int) -> FollowUpIssue | None:
        """The follow-up's issue (or the record of its refusal)."""
        ...

    async def by_issue(self, tracker: str, issue_id: str) -> FollowUpIssue | None:
        """The follow-up issue of a tracker's issue."""
        ...

    async def made(self, follow_up_id: int, tracker: str, ref: IssueRef, *, now: datetime, poll_at: datetime) -> bool:
        """Record the issue made for a follow-up (replacing a refusal); False if it already had one."""
        ...

    async def refused(self, follow_up_id: int, tracker: str, reason: str, *, now: datetime) -> bool:
        """Record that the tracker refused to make it; False if a refusal or issue was recorded already."""
        ...

    async def set_state(self, follow_up_id: int, state: IssueState, *, now: datetime) -> bool:
        """Record the issue's state; False when it was so already (nothing changed)."""
        ...

    async def first_delivery(self, tracker: str, delivery_id: str, *, now: datetime) -> bool:
        """Note an inbound webhook's delivery; False if it was seen already."""
        ...

    async def claim_polls(self, *, now: datetime, lease: timedelta, token: str, limit: int) -> list[FollowUpIssue]:
        """Take open issues due a poll (leased: another replica takes none of them meanwhile)."""
        ...

    async def polled(self, follow_up_id: int, *, token: str, now: datetime, next_at: datetime) -> None:
        """Give a polled issue's claim back, with its next poll."""
        ...
