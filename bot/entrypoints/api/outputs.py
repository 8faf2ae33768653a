"""What the API answers about incidents, as pydantic models (the OpenAPI document's schemas), each built
from the domain's records by `of`."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.incidents import Incident, RoleSpan, Status, TimelineEntry, TimelineKind
from bot.usecases.api_reads import IncidentView, SeverityChange

API = "/api/v1"


class Output(BaseModel):
    """A response body."""

    model_config = ConfigDict(frozen=True)


class IncidentItem(Output):
    """An incident as lists show it."""

    id: int
    reference: str = Field(description="INC-<number>")
    number: int
    title: str
    severity: str
    status: Status
    private: bool
    service: str | None
    declared_at: datetime
    resolved_at: datetime | None
    channel_id: str | None = Field(description="The incident's Slack channel (null until it is made)")
    commander: str | None = Field(description="The Incident Commander's Slack user ID")

    @classmethod
    def fields_of(cls, incident: Incident) -> dict[str, object]:
        """The list fields of an incident."""
        return {
            "id": incident.id,
            "reference": incident.reference,
            "number": incident.number,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "private": incident.private,
            "service": incident.service,
            "declared_at": incident.declared_at,
            "resolved_at": incident.resolved_at,
            "channel_id": incident.channel_id,
            "commander": incident.commander,
        }

    @classmethod
    def of(cls, incident: Incident) -> Self:
        """An incident's list item."""
        return cls.model_validate(cls.fields_of(incident))


class IncidentList(Output):
    """A page of incidents; `next_cursor` (null on the last page) asks for the next."""

    items: list[IncidentItem]
    next_cursor: str | None


class RoleHeld(Output):
    """Someone held a role from `start` until `end` (null: still holds it)."""

    role: str
    user: str
    start: datetime
    end: datetime | None

    @classmethod
    def of(cls, span: RoleSpan) -> Self:
        """A role span."""
        return cls(role=span.role, user=span.user_id, start=span.start, end=span.end)


class SeverityHeld(Output):
    """The incident was at `severity` from `at` (declared at it when `previous` is null), set by `actor`."""

    severity: str
    previous: str | None
    at: datetime
    actor: str | None

    @classmethod
    def of(cls, change: SeverityChange) -> Self:
        """A severity change."""
        return cls(severity=change.severity, previous=change.previous, at=change.at, actor=change.actor)


class IncidentLinks(Output):
    """Where to read more of the incident."""

    self: str
    timeline: str
    updates: str
    follow_ups: str
    pages: str
    postmortem: str
    slack_channel: str | None = Field(description="Opens the incident's channel in Slack")


class IncidentDetail(IncidentItem):
    """One incident in full: roles, their history, severity history, lifecycle times, channel, links."""

    description: str
    detected_via: str | None
    declared_by: str = Field(description="A Slack user ID, or token:<name> for an API token")
    started_at: datetime | None
    detected_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    identified_at: datetime | None
    mitigated_at: datetime | None
    last_update_at: datetime | None
    next_update_due: datetime | None
    resolution_summary: str
    customer_impact: str
    cause: str
    channel_name: str | None
    roles: dict[str, str] = Field(description="Role key → the Slack user ID holding it now")
    role_history: list[RoleHeld]
    severity_history: list[SeverityHeld]
    links: IncidentLinks

    @classmethod
    def of_view(cls, view: IncidentView) -> Self:
        """An incident with its histories."""
        incident = view.incident
        here = f"{API}/incidents/{incident.reference}"
        channel = (
            f"https://slack.com/app_redirect?channel={incident.channel_id}&team={incident.team_id}"
            if incident.channel_id
            else None
        )
        return cls.model_validate(
            {
                **cls.fields_of(incident),
                "description": incident.description,
                "detected_via": incident.detected_via.value if incident.detected_via else None,
                "declared_by": incident.declared_by,
                "started_at": incident.started_at,
                "detected_at": incident.detected_at,
                "acknowledged_at": incident.acknowledged_at,
                "acknowledged_by": incident.acknowledged_by,
                "identified_at": incident.identified_at,
                "mitigated_at": incident.mitigated_at,
                "last_update_at": incident.last_update_at,
                "next_update_due": incident.next_update_due,
                "resolution_summary": incident.resolution_summary,
                "customer_impact": incident.customer_impact,
                "cause": incident.cause,
                "channel_name": incident.channel_name,
                "roles": dict(incident.roles),
                "role_history": [RoleHeld.of(span) for span in view.role_history],
                "severity_history": [SeverityHeld.of(change) for change in view.severity_history],
                "links": IncidentLinks(
                    self=here,
                    timeline=f"{here}/timeline",
                    updates=f"{here}/updates",
                    follow_ups=f"{here}/follow-ups",
                    pages=f"{here}/pages",
                    postmortem=f"{here}/postmortem",
                    slack_channel=channel,
                ),
            }
        )


class TimelineItem(Output):
    """One timeline entry (an update's text is in `text`)."""

    id: int
    kind: TimelineKind
    occurred_at: datetime
    actor: str | None = Field(description="A Slack user ID, token:<name> for an API token, null for Tocsin")
    text: str
    permalink: str | None
    in_thread: bool

    @classmethod
    def of(cls, entry_id: int, entry: TimelineEntry) -> Self:
        """A timeline entry with its id."""
        return cls(
            id=entry_id,
            kind=entry.kind,
            occurred_at=entry.occurred_at,
            actor=entry.actor,
            text=entry.text,
            permalink=entry.permalink,
            in_thread=entry.in_thread,
        )


class TimelinePage(Output):
    """A page of a timeline, oldest first; `next_cursor` (null on the last page) asks for the next."""

    items: list[TimelineItem]
    next_cursor: str | None
