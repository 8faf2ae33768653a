"""The bodies of the events beyond an incident's core lifecycle: its channel as a workspace (title, fields,
links, call, archive), the ways a page reaches people, and on-call life (overrides, handoffs, maintenance,
heartbeats). Personal data (phone numbers, e-mail addresses) never goes in an event. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.event_kinds import EventData, EventKind


class IncidentRetitled(EventData):
    """The incident's title changed (and its channel was renamed to follow, where Slack allowed)."""

    kind = EventKind.INCIDENT_RETITLED
    previous: str
    title: str


class IncidentFieldSet(EventData):
    """One of the incident type's fields was set (`value` as stored: text, number, list, user, URL, date)."""

    kind = EventKind.INCIDENT_FIELD_SET
    field: str
    value: Any = None
    previous: Any = None


class IncidentLinked(EventData):
    """The incident was recorded as related to another (both get an event)."""

    kind = EventKind.INCIDENT_LINKED
    other_incident_id: int
    other_reference: str


class IncidentBridgeSet(EventData):
    """The incident's call bridge was set or replaced (`kind`: static, jitsi or zoom; the URL stays in Slack)."""

    kind = EventKind.INCIDENT_BRIDGE_SET
    bridge_kind: str


class IncidentChannelArchived(EventData):
    """The incident's channel was archived (tidied away after its postmortem)."""

    kind = EventKind.INCIDENT_CHANNEL_ARCHIVED
    channel_id: str


class IncidentChannelContinued(EventData):
    """An incident whose channel was archived was reopened into a continuation channel."""

    kind = EventKind.INCIDENT_CHANNEL_CONTINUED
    channel_id: str
    previous_channel_id: str


class PageContactAttempted(EventData):
    """A page tried to reach someone by one of their contact methods (never the address itself);
    `outcome`: delivered, failed or answered."""

    kind = EventKind.PAGE_CONTACT_ATTEMPTED
    page_id: int
    user: str
    method: str
    outcome: str


class OncallOverrideCreated(EventData):
    """Someone takes a schedule's shifts for a window (`replaces`: whose shift it was, if one person's;
    `via`: take, give or swap)."""

    kind = EventKind.ONCALL_OVERRIDE_CREATED
    override_id: int
    schedule: str
    user: str
    start: datetime
    end: datetime
    replaces: str | None = None
    via: str = "take"


class OncallOverrideRemoved(EventData):
    """An override made from Slack was removed."""

    kind = EventKind.ONCALL_OVERRIDE_REMOVED
    override_id: int
    schedule: str


class OncallHandoff(EventData):
    """A schedule's on-call changed hands (`outgoing`/`incoming`: None when nobody)."""

    kind = EventKind.ONCALL_HANDOFF
    schedule: str
    at: datetime
    outgoing: str | None = None
    incoming: str | None = None


class MaintenanceStarted(EventData):
    """A maintenance window began silencing a service's paging."""

    kind = EventKind.MAINTENANCE_STARTED
    window_id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


class MaintenanceEnded(EventData):
    """A maintenance window ended (by itself, or ended early)."""

    kind = EventKind.MAINTENANCE_ENDED
    window_id: int
    service: str


class HeartbeatMissed(EventData):
    """A heartbeat did not arrive within its period and grace."""

    kind = EventKind.HEARTBEAT_MISSED
    name: str
    service: str | None = None
    last_seen_at: datetime | None = None


class HeartbeatRecovered(EventData):
    """A missed heartbeat arrived again."""

    kind = EventKind.HEARTBEAT_RECOVERED
    name: str
    service: str | None = None


BEYOND_INCIDENTS: tuple[type[EventData], ...] = (
    IncidentRetitled,
    IncidentFieldSet,
    IncidentLinked,
    IncidentBridgeSet,
    IncidentChannelArchived,
    IncidentChannelContinued,
    PageContactAttempted,
    OncallOverrideCreated,
    OncallOverrideRemoved,
    OncallHandoff,
    MaintenanceStarted,
    MaintenanceEnded,
    HeartbeatMissed,
    HeartbeatRecovered,
)
