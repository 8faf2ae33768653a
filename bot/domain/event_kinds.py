"""The event log's kinds and the base of their bodies (the bodies: events.py and events_beyond.py). Pure."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class EventKind(StrEnum):
    """What an event records; the names are part of the public contract (webhook `events:` lists them)."""

    INCIDENT_DECLARED = "incident.declared"
    INCIDENT_UPDATED = "incident.updated"  # a status update was posted
    INCIDENT_SEVERITY_CHANGED = "incident.severity_changed"
    INCIDENT_STATUS_CHANGED = "incident.status_changed"
    INCIDENT_ROLE_ASSIGNED = "incident.role_assigned"
    INCIDENT_NOTE_ADDED = "incident.note_added"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_REOPENED = "incident.reopened"
    INCIDENT_MADE_PUBLIC = "incident.made_public"
    INCIDENT_PUBLISHED_UPDATE = "incident.published_update"  # an update was posted to the status page
    POSTMORTEM_PUBLISHED = "postmortem.published"
    FOLLOW_UP_CREATED = "follow_up.created"
    FOLLOW_UP_CLOSED = "follow_up.closed"
    FOLLOW_UP_REOPENED = "follow_up.reopened"
    PAGE_STARTED = "page.started"
    PAGE_ACKNOWLEDGED = "page.acknowledged"
    PAGE_EXHAUSTED = "page.exhausted"
    PAGE_CANCELLED = "page.cancelled"
    ALERT_FIRING = "alert.firing"  # a new alert group, or one firing again after it had resolved
    ALERT_RESOLVED = "alert.resolved"  # every alert of a group resolved
    INCIDENT_RETITLED = "incident.retitled"
    INCIDENT_FIELD_SET = "incident.field_set"
    INCIDENT_LINKED = "incident.linked"
    INCIDENT_BRIDGE_SET = "incident.bridge_set"
    INCIDENT_CHANNEL_ARCHIVED = "incident.channel_archived"
    INCIDENT_CHANNEL_CONTINUED = "incident.channel_continued"
    PAGE_CONTACT_ATTEMPTED = "page.contact_attempted"
    ONCALL_OVERRIDE_CREATED = "oncall.override_created"
    ONCALL_OVERRIDE_REMOVED = "oncall.override_removed"
    ONCALL_HANDOFF = "oncall.handoff"
    MAINTENANCE_STARTED = "maintenance.started"
    MAINTENANCE_ENDED = "maintenance.ended"
    HEARTBEAT_MISSED = "heartbeat.missed"
    HEARTBEAT_RECOVERED = "heartbeat.recovered"


class EventData(BaseModel):
    """The body of one kind of event (its `data` in the envelope)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[EventKind]
