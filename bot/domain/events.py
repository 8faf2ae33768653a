"""Domain events: what happened to an incident, a page, a follow-up or an alert group, as the event log
keeps it.

Every change appends its events in the same transaction as the change itself, so the log holds an event
exactly when the change happened. Each kind has a versioned body (a pydantic model below, whose JSON
Schema docs/events.md lists); the envelope (`DomainEvent.as_json`) is what the REST API and outgoing
webhooks expose. Pure: no Slack, no SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain.event_kinds import EventData, EventKind
from bot.domain.events_beyond import BEYOND_INCIDENTS
from bot.domain.incidents import Incident

__all__ = ["EventData", "EventKind"]  # defined in event_kinds.py, named here as ever

SCHEMA_VERSION = 1


class IncidentDeclared(EventData):
    """An incident was declared."""

    kind = EventKind.INCIDENT_DECLARED
    title: str
    severity: str
    status: str
    service: str | None = None
    detected_via: str | None = None
    description: str = ""


class IncidentUpdated(EventData):
    """A status update was posted (its text, and the status it was posted with)."""

    kind = EventKind.INCIDENT_UPDATED
    status: str
    text: str


class IncidentSeverityChanged(EventData):
    """The severity changed from `previous` to `severity`."""

    kind = EventKind.INCIDENT_SEVERITY_CHANGED
    previous: str
    severity: str


class IncidentStatusChanged(EventData):
    """The status changed from `previous` to `status` (resolving has an event of its own too)."""

    kind = EventKind.INCIDENT_STATUS_CHANGED
    previous: str
    status: str


class IncidentRoleAssigned(EventData):
    """Someone was given a role (`previous`: who held it before, if anyone)."""

    kind = EventKind.INCIDENT_ROLE_ASSIGNED
    role: str
    user: str
    previous: str | None = None


class IncidentNoteAdded(EventData):
    """A note was added to the timeline."""

    kind = EventKind.INCIDENT_NOTE_ADDED
    text: str


class IncidentResolved(EventData):
    """The incident was resolved, with its summary."""

    kind = EventKind.INCIDENT_RESOLVED
    summary: str = ""


class IncidentReopened(EventData):
    """A resolved incident was opened again."""

    kind = EventKind.INCIDENT_REOPENED
    status: str


class IncidentMadePublic(EventData):
    """A private incident was made public."""

    kind = EventKind.INCIDENT_MADE_PUBLIC


class IncidentPublishedUpdate(EventData):
    """An update was posted to the public status page, in the words customers read (`first`: the one that
    put the incident on the page; `components`: the status page's components it names)."""

    kind = EventKind.INCIDENT_PUBLISHED_UPDATE
    update_id: int
    public_id: str  # the incident's id on the status page (never its INC number)
    title: str
    status: str
    body: str
    first: bool = False
    components: list[str] = []


class PostmortemPublished(EventData):
    """The postmortem draft was published or regenerated (`draft_version` counts from 1), as the channel's
    canvas or as a Markdown file (`published_as`: `canvas` or `file`)."""

    kind = EventKind.POSTMORTEM_PUBLISHED
    draft_version: int
    published_as: str


class FollowUpCreated(EventData):
    """A follow-up (action item) was created."""

    kind = EventKind.FOLLOW_UP_CREATED
    follow_up_id: int
    text: str
    owner: str | None = None
    due_on: date | None = None


class FollowUpClosed(EventData):
    """A follow-up was marked done."""

    kind = EventKind.FOLLOW_UP_CLOSED
    follow_up_id: int


class FollowUpReopened(EventData):
    """A follow-up marked done is open again (its issue was reopened in its tracker)."""

    kind = EventKind.FOLLOW_UP_REOPENED
    follow_up_id: int


class PageStarted(EventData):
    """A page started escalating (`escalation_policy`: the plan it follows)."""

    kind = EventKind.PAGE_STARTED
    page_id: int
    title: str
    severity: str
    source: str
    escalation_policy: str


class PageAcknowledged(EventData):
    """Someone acknowledged a page."""

    kind = EventKind.PAGE_ACKNOWLEDGED
    page_id: int


class PageExhausted(EventData):
    """A page ran out of steps with nobody acknowledging it."""

    kind = EventKind.PAGE_EXHAUSTED
    page_id: int


class PageCancelled(EventData):
    """A page was stood down before anyone acknowledged it (its alerts resolved, say)."""

    kind = EventKind.PAGE_CANCELLED
    page_id: int
    reason: str


class AlertFiring(EventData):
    """An alert group started firing (new, or again after all its alerts had resolved)."""

    kind = EventKind.ALERT_FIRING
    group_id: int
    source: str
    title: str
    firing: int


class AlertResolved(EventData):
    """Every alert of a group resolved."""

    kind = EventKind.ALERT_RESOLVED
    group_id: int
    source: str


_CORE: tuple[type[EventData], ...] = (
    IncidentDeclared,
    IncidentUpdated,
    IncidentSeverityChanged,
    IncidentStatusChanged,
    IncidentRoleAssigned,
    IncidentNoteAdded,
    IncidentResolved,
    IncidentReopened,
    IncidentMadePublic,
    IncidentPublishedUpdate,
    PostmortemPublished,
    FollowUpCreated,
    FollowUpClosed,
    FollowUpReopened,
    PageStarted,
    PageAcknowledged,
    PageExhausted,
    PageCancelled,
    AlertFiring,
    AlertResolved,
)
BODIES: dict[EventKind, type[EventData]] = {model.kind: model for model in (*_CORE, *BEYOND_INCIDENTS)}


@dataclass(frozen=True, slots=True)
class Subject:
    """What an event is about: its incident (if any) and whether that incident is private."""

    incident_id: int | None = None
    reference: str | None = None  # INC-n
    private: bool = False
    page_id: int | None = None
    alert_group_id: int | None = None
    topic: str | None = None  # neither incident, page nor alert: e.g. schedule:<name>, heartbeat:<name>

    @property
    def stream(self) -> str:
        """The events that must reach a subscriber in order: one incident's, else one page's, group's or
        topic's."""
        if self.incident_id is not None:
            return f"incident:{self.incident_id}"
        if self.page_id is not None:
            return f"page:{self.page_id}"
        if self.topic is not None:
            return self.topic
        return f"alert:{self.alert_group_id}"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One recorded event: a stable id, its kind, what it is about, who did it and when, and its body."""

    id: str
    occurred_at: datetime
    actor: str | None  # a Slack user ID, an API principal, or None for Tocsin itself
    subject: Subject
    data: EventData
    version: int = SCHEMA_VERSION

    @property
    def kind(self) -> EventKind:
        """The event's kind (its body's)."""
        return self.data.kind

    def as_json(self) -> dict[str, Any]:
        """The envelope the API and webhooks send (JSON-ready)."""
        subject = self.subject
        return {
            "id": self.id,
            "kind": self.kind.value,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "incident": (
                {"id": subject.incident_id, "reference": subject.reference} if subject.incident_id is not None else None
            ),
            "private": subject.private,
            "data": self.data.model_dump(mode="json"),
        }


def about(incident: Incident, *, page_id: int | None = None) -> Subject:
    """The subject of an event of `incident` (or of one of its pages)."""
    return Subject(incident.id, incident.reference, incident.private, page_id=page_id)


def incident_event(data: EventData, incident: Incident, *, actor: str | None, at: datetime) -> DomainEvent:
    """A new event of an incident."""
    return new_event(data, subject=about(incident), actor=actor, at=at)


def new_event(data: EventData, *, subject: Subject, actor: str | None, at: datetime) -> DomainEvent:
    """A new event with a fresh id."""
    return DomainEvent(f"evt_{uuid.uuid4().hex}", at, actor, subject, data)


def body_of(kind: str, data: dict[str, Any]) -> EventData:
    """Read a stored body back into its model."""
    return BODIES[EventKind(kind)].model_validate(data)


def schemas() -> dict[str, dict[str, Any]]:
    """Each kind's body as JSON Schema (docs/events.md lists them; a test keeps it current)."""
    return {kind.value: model.model_json_schema() for kind, model in BODIES.items()}
