"""What a tracker (GitHub, GitLab, Jira, Linear) is to the use cases: a place where a follow-up becomes an
issue, is closed or reopened, and whose webhooks or polled state say when people closed it there.

Each kind has an adapter in bot/runtime/trackers/ speaking its real API; the use cases see only this.
Errors: `TrackerRefused` (the tracker answered no: a bad token, a missing project — not worth retrying
until someone changes something), `TrackerBusy` (a rate limit or the tracker's own trouble — retry, after
`retry_after` seconds when it said), `TrackerUnreachable` (no answer) — both retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

IssueState = Literal["open", "closed"]


class TrackerError(Exception):
    """A tracker call failed; `reason` is short and safe to log and count (never a token)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        """`reason` as a metric label (e.g. `unauthorized`, `rate_limited`, `server_error`)."""
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TrackerRefused(TrackerError):
    """The tracker refused the call for good (bad credentials, unknown project, invalid field)."""


class TrackerBusy(TrackerError):
    """A rate limit or the tracker's own trouble: try again later (after `retry_after` when given)."""


class TrackerUnreachable(TrackerError):
    """No usable answer (connection refused, timeout)."""


@dataclass(frozen=True, slots=True)
class NewIssue:
    """What an issue is made from: the follow-up, its incident and where to read more."""

    title: str  # the follow-up's text, trimmed to a line
    body: str  # Markdown: the follow-up, the incident's title, severity and link, the postmortem link, the owner
    labels: tuple[str, ...] = ()
    due_on: date | None = None
    assignee_email: str | None = None  # the owner's e-mail, if the tracker can find its user by it


@dataclass(frozen=True, slots=True)
class IssueRef:
    """An issue in a tracker: its stable id (for API calls), its human key (`#12`, `OPS-7`) and link."""

    id: str
    key: str
    url: str


@dataclass(frozen=True, slots=True)
class IssueChange:
    """What an inbound webhook says happened to an issue (None: nothing Tocsin follows)."""

    issue_id: str
    state: IssueState
    delivery_id: str  # for dropping a duplicate delivery


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
