"""What the API answers besides incidents themselves: follow-ups, pages, the stats, who is on call and the
event log, as pydantic models (the OpenAPI document's schemas), each built from the domain's records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import Field

from bot.domain.escalation import Page
from bot.domain.events import DomainEvent, EventKind
from bot.domain.follow_ups import FollowUp
from bot.domain.stats import Durations, IncidentStats
from bot.entrypoints.api.outputs import Output
from bot.usecases.api_reads import OnCall


class IssueLink(Output):
    """The tracker issue a follow-up became."""

    key: str = Field(description="The tracker's own key, e.g. #12 or OPS-7")
    url: str


class FollowUpItem(Output):
    """An action item from an incident."""

    id: int
    incident_id: int
    incident_reference: str
    text: str
    owner: str | None = Field(description="A Slack user ID")
    due_on: date | None
    state: Literal["open", "done"]
    overdue: bool
    created_by: str = Field(description="A Slack user ID, or token:<name> for an API token")
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    issue: IssueLink | None = Field(description="Its issue in a tracker, once made")

    @classmethod
    def of(cls, item: FollowUp, *, today: date) -> Self:
        """A follow-up, overdue or not as of `today`."""
        return cls(
            id=item.id,
            incident_id=item.incident_id,
            incident_reference=item.incident_reference,
            text=item.text,
            owner=item.owner,
            due_on=item.due_on,
            state="open" if item.is_open else "done",
            overdue=item.is_overdue(today),
            created_by=item.created_by,
            created_at=item.created_at,
            done_at=item.done_at,
            done_by=item.done_by,
            issue=IssueLink(key=item.issue_key, url=item.issue_url) if item.issue_key and item.issue_url else None,
        )


class FollowUpList(Output):
    """A page of follow-ups, oldest first; `next_cursor` (null on the last page) asks for the next."""

    items: list[FollowUpItem]
    next_cursor: str | None


class PageItem(Output):
    """A page: whom it escalates through (its escalation policy, as snapshotted) and where it stands."""

    id: int
    title: str
    severity: str
    source: str = Field(description="What was paged: service:<name> or user:<id>")
    escalation_policy: str
    status: Literal["triggered", "acknowledged", "exhausted", "cancelled"]
    tier: int = Field(description="The next tier to notify (0 first)")
    round: int = Field(description="How many times the tiers have been run through")
    next_step_at: datetime | None
    created_by: str
    created_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None

    @classmethod
    def of(cls, page: Page) -> Self:
        """A page."""
        return cls.model_validate(
            {
                "id": page.id,
                "title": page.title,
                "severity": page.severity,
                "source": page.source,
                "escalation_policy": page.plan.name,
                "status": page.status,
                "tier": page.tier,
                "round": page.round,
                "next_step_at": page.next_step_at,
                "created_by": page.created_by,
                "created_at": page.created_at,
                "acknowledged_by": page.acknowledged_by,
                "acknowledged_at": page.acknowledged_at,
            }
        )


class PageList(Output):
    """An incident's pages, oldest first."""

    items: list[PageItem]

    @classmethod
    def of(cls, pages: list[Page]) -> Self:
        """The pages of an incident."""
        return cls(items=[PageItem.of(page) for page in pages])


class Measure(Output):
    """One measure over `count` incidents: its median and mean, in seconds (null with no incidents)."""

    count: int
    median_seconds: float | None
    mean_seconds: float | None

    @classmethod
    def of(cls, durations: Durations) -> Self:
        """A measure."""
        return cls(count=durations.count, median_seconds=durations.median, mean_seconds=durations.mean)


class SeverityFigures(Output):
    """One severity's figures: how many incidents, time to detect (MTTD), acknowledge (MTTA), resolve (MTTR)."""

    severity: str
    incidents: int
    detect: Measure
    acknowledge: Measure
    resolve: Measure


class WeekFigures(Output):
    """One week (from its Monday, UTC): incidents declared, and the mean time to resolve, per severity."""

    week: date
    declared: dict[str, int]
    mean_resolve_seconds: dict[str, float]


class Stats(Output):
    """What `/incident stats` shows, for incidents declared since `since` (null: all time) until `until`."""

    since: datetime | None
    until: datetime
    total: int
    by_severity: list[SeverityFigures]
    weeks: list[WeekFigures]
    with_service: int = Field(description="Incidents with a service")
    repeats: int = Field(description="Incidents of a service declared after its first in the window")
    repeat_rate: float | None
    detected_via: dict[str, int] = Field(description="monitoring / customer / internal / unknown → incidents")
    open_follow_ups: int
    overdue_follow_ups: int

    @classmethod
    def of(cls, stats: IncidentStats) -> Self:
        """The figures."""
        weeks = sorted(set(stats.weekly) | set(stats.weekly_mttr))
        return cls(
            since=stats.since,
            until=stats.until,
            total=stats.total,
            by_severity=[
                SeverityFigures(
                    severity=s.severity,
                    incidents=s.incidents,
                    detect=Measure.of(s.detect),
                    acknowledge=Measure.of(s.acknowledge),
                    resolve=Measure.of(s.resolve),
                )
                for s in stats.by_severity
            ],
            weeks=[
                WeekFigures(
                    week=week, declared=stats.weekly.get(week, {}), mean_resolve_seconds=stats.weekly_mttr.get(week, {})
                )
                for week in weeks
            ],
            with_service=stats.with_service,
            repeats=stats.repeats,
            repeat_rate=stats.repeat_rate,
            detected_via=stats.detected_via,
            open_follow_ups=stats.open_follow_ups,
            overdue_follow_ups=stats.overdue_follow_ups,
        )


class OnCallItem(Output):
    """Who a schedule has on call, and the next handoff (when, and to whom; null beyond five weeks)."""

    schedule: str
    user: str | None = Field(description="A Slack user ID or e-mail address as the policy names them; null: a gap")
    next_handoff_at: datetime | None
    next_user: str | None

    @classmethod
    def of(cls, row: OnCall) -> Self:
        """A schedule's on-call."""
        return cls(schedule=row.schedule, user=row.user, next_handoff_at=row.next_handoff_at, next_user=row.next_user)


class OnCallList(Output):
    """Who is on call at `at`, per schedule."""

    at: datetime
    items: list[OnCallItem]


class EventIncident(Output):
    """The incident an event is about."""

    id: int
    reference: str | None


class EventItem(Output):
    """One event of the log: the envelope outgoing webhooks send too (docs/events.md lists each kind's data)."""

    id: str
    kind: EventKind
    version: int
    occurred_at: datetime
    actor: str | None
    incident: EventIncident | None
    private: bool
    data: dict[str, Any]

    @classmethod
    def of(cls, event: DomainEvent) -> Self:
        """An event as its JSON envelope."""
        return cls.model_validate(event.as_json())


class EventList(Output):
    """Events after the cursor given, oldest first; pass `next_cursor` back to read on (also when empty)."""

    items: list[EventItem]
    next_cursor: str
