"""Issues in trackers (GitHub, GitLab, Jira, Linear) as Tocsin sees them: what an issue is made of, a
reference to one, what a webhook says happened to one, a follow-up's issue as Tocsin remembers it, and
the errors a tracker call ends in. Pure (bot/usecases/tracker_ports.py re-exports the values and errors for
the use cases; the adapters in bot/runtime/trackers/ import them from here, as the runtime may not import
use cases).

The stored `state` is the issue's state as Tocsin last set or heard it: an inbound change (a webhook, or a
poll) that says what is stored already changes nothing, so a duplicate delivery, or one overtaken by a
later one, is not applied twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident

IssueState = Literal["open", "closed"]

TRACKER_PREFIX = "tracker:"
MAX_ACTOR = 32  # the width of the columns that store actors
MAX_TITLE = 200


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
    components: tuple[str, ...] = ()  # Jira's components (other trackers have none)


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


@dataclass(frozen=True, slots=True)
class FollowUpIssue:
    """A follow-up's issue: where it is, its key and link, its state as last known, and why it could
    not be made (`failed_reason`, with an empty `issue_id`) when the tracker refused."""

    follow_up_id: int
    tracker: str
    issue_id: str
    key: str
    url: str
    state: IssueState
    created_at: datetime
    last_synced_at: datetime | None = None
    failed_reason: str | None = None

    @property
    def made(self) -> bool:
        """Whether the issue exists (not only a record of a refusal)."""
        return bool(self.issue_id)


def tracker_actor(name: str) -> str:
    """The principal a tracker's changes are recorded as: `tracker:<name>`, cut to MAX_ACTOR with a
    hash of the whole name when longer."""
    actor = f"{TRACKER_PREFIX}{name}"
    if len(actor) <= MAX_ACTOR:
        return actor
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{actor[: MAX_ACTOR - len(digest) - 1]}-{digest}"


def tracker_name_of(actor: str | None) -> str | None:
    """The tracker named by a `tracker:<name>` principal, else None."""
    if actor and actor.startswith(TRACKER_PREFIX):
        return actor[len(TRACKER_PREFIX) :]
    return None


def issue_for(
    item: FollowUp,
    incident: Incident,
    *,
    incident_url: str | None,
    postmortem_url: str | None,
    owner_name: str | None,
    owner_email: str | None,
    labels: tuple[str, ...],
    components: tuple[str, ...] = (),
) -> NewIssue:
    """The issue a follow-up becomes: its text as the title, and a body with the incident's title,
    severity and link, the postmortem link and the owner (named, in case the tracker cannot assign them)."""
    title = item.text if len(item.text) <= MAX_TITLE else item.text[: MAX_TITLE - 1] + "…"
    lines = [
        item.text,
        "",
        f"Follow-up of {incident.reference}: {incident.title} ({incident.severity})",
    ]
    if incident_url:
        lines.append(f"Incident: {incident_url}")
    if postmortem_url:
        lines.append(f"Postmortem: {postmortem_url}")
    if owner_name or item.owner:
        lines.append(f"Owner: {owner_name or item.owner}")
    if item.due_on:
        lines.append(f"Due: {item.due_on.isoformat()}")
    lines += ["", "_Made by Tocsin; closing this issue marks the follow-up done._"]
    return NewIssue(
        title=title,
        body="\n".join(lines),
        labels=labels,
        components=components,
        due_on=item.due_on,
        assignee_email=owner_email,
    )


def changes_anything(stored: FollowUpIssue | None, state: IssueState) -> bool:
    """Whether hearing that the issue is now `state` changes anything (an unknown issue: nothing)."""
    return stored is not None and stored.made and stored.state != state
