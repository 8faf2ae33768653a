"""The incident domain: lifecycle, references and the plain records the rest of Tocsin passes around.

Pure: no Slack, no SQL. Storage converts its rows into these frozen records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.errors import UserError

INCIDENT_REF = re.compile(r"^(?:inc-?)?(\d{1,9})$", re.IGNORECASE)


class Status(StrEnum):
    """Where an incident is in its lifecycle (declared incidents start investigating)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"  # postmortem done

    @property
    def label(self) -> str:
        """The status as people read it."""
        return "Postmortem done" if self is Status.CLOSED else self.value.capitalize()

    @property
    def is_open(self) -> bool:
        """Whether the incident still needs a response."""
        return self not in (Status.RESOLVED, Status.CLOSED)


class DetectedVia(StrEnum):
    """How the problem came to light; feeds the monitoring-versus-customer share."""

    MONITORING = "monitoring"
    CUSTOMER = "customer"
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        """The source as people read it."""
        return {
            "monitoring": "Monitoring / alert",
            "customer": "Customer report",
            "internal": "Noticed internally",
        }[self.value]


class TimelineKind(StrEnum):
    """What a timeline entry records."""

    DECLARED = "declared"
    CHANNEL_CREATED = "channel_created"
    ROLE_ASSIGNED = "role_assigned"
    ANNOUNCED = "announced"
    HEADER_POSTED = "header_posted"
    SETUP_PROBLEM = "setup_problem"
    SEVERITY_CHANGED = "severity_changed"
    STATUS_CHANGED = "status_changed"
    UPDATE = "update"
    NOTE = "note"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    MESSAGE = "message"  # a pinned or reacted Slack message
    REMINDER = "reminder"
    ALERT = "alert"
    RUNBOOK = "runbook"
    PAGE = "page"
    POSTMORTEM = "postmortem"
    FOLLOW_UP = "follow_up"
    VISIBILITY = "visibility"  # a private incident made public
    FIELD_SET = "field_set"  # one of the incident type's fields set or cleared
    CALL = "call"  # the call bridge set or replaced
    RETITLED = "retitled"
    CHANNEL = "channel"  # the channel archived, kept open, or continued in another
    RELATED = "related"  # linked as related to another incident

    @property
    def label(self) -> str:
        """How the timeline names this kind of entry."""
        return _KIND_LABELS.get(self, self.value.replace("_", " ").capitalize())


_KIND_LABELS = {
    TimelineKind.SEVERITY_CHANGED: "Severity",
    TimelineKind.STATUS_CHANGED: "Status",
    TimelineKind.ROLE_ASSIGNED: "Role",
    TimelineKind.MESSAGE: "Message",
    TimelineKind.SETUP_PROBLEM: "Set-up problem",
    TimelineKind.FOLLOW_UP: "Follow-up",
    TimelineKind.RETITLED: "Title",
}


IC_ROLE = "incident_commander"


@dataclass(frozen=True, slots=True)
class Incident:
    """A stored incident as the domain sees it."""

    id: int
    team_id: str
    number: int
    title: str
    severity: str
    status: Status
    declared_by: str
    declared_at: datetime
    description: str = ""
    detected_via: DetectedVia | None = None
    started_at: datetime | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    channel_topic: str | None = None
    header_ts: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    identified_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution_summary: str = ""
    customer_impact: str = ""
    cause: str = ""
    last_update_at: datetime | None = None
    next_update_due: datetime | None = None
    service: str | None = None
    detected_at: datetime | None = None
    reminder_at: datetime | None = None
    reminders_sent: int = 0
    setup_attempts: int = 0  # sweeps that tried to finish setting it up in Slack
    private: bool = False  # a restricted incident: nothing about it leaves its private channel
    moved_from: str | None = None  # made public: the private channel it is leaving, until the move is done
    incident_type: str | None = None  # a `types:` name of the policy
    custom_fields: dict[str, Any] = field(default_factory=dict)  # its type's fields: name -> value
    bridge_url: str | None = None  # the call to join

    @property
    def reference(self) -> str:
        """The incident's public name, e.g. INC-42."""
        return reference(self.number)

    @property
    def commander(self) -> str | None:
        """The Incident Commander's user ID."""
        return self.roles.get(IC_ROLE)

    def age(self, now: datetime) -> timedelta:
        """How long since the incident was declared."""
        return now - self.declared_at

    def duration(self, now: datetime) -> timedelta:
        """How long the incident has run: until resolved, or until now."""
        return (self.resolved_at or now) - self.declared_at


@dataclass(frozen=True, slots=True)
class NewIncident:
    """What a declaration asks for, before it has a number."""

    team_id: str
    title: str
    severity: str
    declared_by: str
    declare_key: str
    description: str = ""
    detected_via: DetectedVia | None = None
    started_at: datetime | None = None
    service: str | None = None
    detected_at: datetime | None = None
    private: bool = False
    first_entry: TimelineEntry | None = None  # declared from a message: it opens the timeline
    incident_type: str | None = None  # a `types:` name of the policy
    custom_fields: dict[str, Any] = field(default_factory=dict)  # its type's fields given at declare


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an incident's timeline."""

    kind: TimelineKind
    occurred_at: datetime
    actor: str | None
    text: str
    source: str | None = None  # "C123:1700000000.000100" for a captured Slack message
    permalink: str | None = None
    thread_ts: str | None = None  # a captured reply: the ts of its thread's parent

    @property
    def in_thread(self) -> bool:
        """Whether this is a captured reply in a thread (its permalink opens the thread)."""
        return self.thread_ts is not None


@dataclass(frozen=True, slots=True)
class RoleSpan:
    """Someone held a role from `start` until `end` (None: still holds it)."""

    role: str
    user_id: str
    start: datetime
    end: datetime | None = None

    def covers(self, when: datetime) -> bool:
        """Whether the role was held at `when` (a handover's moment counts for both holders)."""
        return self.start <= when and (self.end is None or when <= self.end)


def reference(number: int) -> str:
    """INC-<number>."""
    return f"INC-{number}"


def parse_reference(text: str) -> int:
    """The number in `INC-42` / `inc42` / `42`; UserError otherwise."""
    match = INCIDENT_REF.match(text.strip())
    if not match:
        raise UserError(f"“{text}” isn't an incident reference; write it like INC-42.")
    return int(match.group(1))


MAX_TITLE_LENGTH = 120


def clean_title(title: str) -> str:
    """A title with its white space folded; UserError when empty or too long."""
    folded = " ".join(title.split())
    if not folded:
        raise UserError("An incident needs a title, e.g. `/incident declare sev2 Checkout errors`.")
    if len(folded) > MAX_TITLE_LENGTH:
        raise UserError(
            f"That title is {len(folded)} characters; keep it to {MAX_TITLE_LENGTH} and put the detail in an update."
        )
    return folded


def format_age(delta: timedelta) -> str:
    """A short human duration: 45s, 12m, 3h 5m, 2d 4h."""
    seconds = max(0, int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Target:
    """Which incident a command is about: named, or (all None) the channel it was typed in."""

    number: int | None = None
    channel_id: str | None = None


HERE = Target()
