"""The public status page, computed from what people published. Pure.

Customers see only what someone chose to publish: an incident appears once its first public update is
posted, with the public title and the public updates' words, never its internal title, updates, channel
or INC number. Its severity (internal) sets how its components show, through the policy's
`status_page.component_states`; the policy's services marked `status_page: true` are the components.
Days are the policy's time zone's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.incidents import Status
from bot.domain.policy import Policy
from bot.domain.status_policy import ComponentState

HISTORY_DAYS = 90
MAX_PUBLIC_TEXT = 5000
MAX_PUBLIC_TITLE = 120
RESOLVED_WORDING = "This incident has been resolved."


class PublicStatus(StrEnum):
    """An incident's status as the status page says it (Statuspage's incident statuses)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        """The status as customers read it."""
        return self.value.capitalize()

    @classmethod
    def of(cls, status: Status) -> PublicStatus:
        """The public status of an incident's lifecycle status (postmortem done is resolved)."""
        return cls.RESOLVED if status in (Status.RESOLVED, Status.CLOSED) else cls(status.value)


@dataclass(frozen=True, slots=True)
class PublicWording:
    """What someone wrote for the status page: the update's words, and a public title (the first
    publication's, or a new one; None keeps the title as it is)."""

    text: str
    title: str | None = None

    def checked(self) -> PublicWording:
        """The wording trimmed; UserError when there is nothing to publish or it is too long."""
        text, title = self.text.strip(), (self.title or "").strip() or None
        if not text:
            raise UserError("Write what customers should read on the status page.")
        if len(text) > MAX_PUBLIC_TEXT:
            raise UserError(f"A status page update is at most {MAX_PUBLIC_TEXT} characters ({len(text)} given).")
        if title is not None and len(title) > MAX_PUBLIC_TITLE:
            raise UserError(f"A status page title is at most {MAX_PUBLIC_TITLE} characters ({len(title)} given).")
        return PublicWording(text, title)


def components_of(policy: Policy) -> list[str]:
    """The status page's components: the services marked `status_page: true`, in the policy's order."""
    return [name for name, service in policy.services.items() if service.status_page]


def default_title(service: str | None, policy: Policy) -> str:
    """The public title when the first publication gives none (naming the service only if it is a
    component: other services' names are internal)."""
    if service is not None and service in components_of(policy):
        return f"Investigating an issue with {service}"
    return "Investigating an issue"


@dataclass(frozen=True, slots=True)
class Publication:
    """An incident as it stands on the status page: its public id, public title and public status."""

    public_id: str
    title: str
    status: PublicStatus


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    """One update as published: its status and words."""

    id: int
    status: PublicStatus
    body: str
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class PublicIncident:
    """A published incident: its public id and title and its public updates (oldest first), and the
    severity and service that decide which components it affects and how (neither is shown as such)."""

    public_id: str
    title: str
    severity: str
    service: str | None
    updates: tuple[PublicUpdate, ...]
    private: bool = False  # never true for a stored publication; checked again all the same

    @property
    def status(self) -> PublicStatus:
        """The newest update's status."""
        return self.updates[-1].status if self.updates else PublicStatus.INVESTIGATING

    @property
    def resolved(self) -> bool:
        """Whether the newest public update resolved it."""
        return self.status is PublicStatus.RESOLVED

    @property
    def created_at(self) -> datetime:
        """When it was first published."""
        return self.updates[0].posted_at

    @property
    def updated_at(self) -> datetime:
        """When its newest update was published."""
        return self.updates[-1].posted_at

    @property
    def resolved_at(self) -> datetime | None:
        """When it was publicly resolved (None while it is open)."""
        return self.updated_at if self.resolved else None

    @property
    def monitoring_at(self) -> datetime | None:
        """When it was first said to be monitored."""
        return next((u.posted_at for u in self.updates if u.status is PublicStatus.MONITORING), None)


@dataclass(frozen=True, slots=True)
class Maintenance:
    """Scheduled maintenance shown on the page. Nothing schedules it yet: the maintenance-window feature
    will pass its windows to `build_snapshot` (`maintenances=`), and the page and feeds already show them."""

    title: str
    starts_at: datetime
    ends_at: datetime
    body: str = ""
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Day:
    """One day of a component's history: its worst state that day, and the incidents behind it."""

    day: date
    state: ComponentState
    incidents: tuple[str, ...] = ()  # their public titles


@dataclass(frozen=True, slots=True)
class Component:
    """A component: its current state and its history (oldest day first)."""

    name: str
    state: ComponentState
    history: tuple[Day, ...] = ()


@dataclass(frozen=True, slots=True)
class Indicator:
    """The page's overall state, in Statuspage's terms (none, minor, major, critical)."""

    level: str
    description: str


_IMPACT = {
    ComponentState.OPERATIONAL: "none",
    ComponentState.DEGRADED_PERFORMANCE: "minor",
    ComponentState.PARTIAL_OUTAGE: "major",
    ComponentState.MAJOR_OUTAGE: "critical",
}
_DESCRIPTION = {
    ComponentState.OPERATIONAL: "All Systems Operational",
    ComponentState.DEGRADED_PERFORMANCE: "Partially Degraded Service",
    ComponentState.PARTIAL_OUTAGE: "Partial System Outage",
    ComponentState.MAJOR_OUTAGE: "Major Service Outage",
}


def impact(state: ComponentState) -> str:
    """Statuspage's impact word for a state: none, minor, major or critical."""
    return _IMPACT[state]


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything the status page and its feeds show, as of one moment."""

    title: str
    today: date
    components: tuple[Component, ...]
    open_incidents: tuple[PublicIncident, ...]  # newest first
    past_incidents: tuple[PublicIncident, ...]  # resolved within the history's days, newest first
    incident_state: dict[str, ComponentState] = field(default_factory=dict)  # public id → its state
    incident_components: dict[str, tuple[str, ...]] = field(default_factory=dict)  # public id → components
    maintenances: tuple[Maintenance, ...] = ()
    days: int = HISTORY_DAYS  # how far back the history goes

    @property
    def indicator(self) -> Indicator:
        """The worst state of any component or open incident."""
        states = [c.state for c in self.components] + [self.incident_state[i.public_id] for i in self.open_incidents]
        worst = max(states, key=lambda s: s.rank, default=ComponentState.OPERATIONAL)
        return Indicator(_IMPACT[worst], _DESCRIPTION[worst])

    @property
    def updated_at(self) -> datetime | None:
        """When the newest thing shown was published (None for a page that never showed an incident)."""
        return max((i.updated_at for i in (*self.open_incidents, *self.past_incidents)), default=None)

    @property
    def incidents(self) -> tuple[PublicIncident, ...]:
        """Every incident shown, open ones first, newest first."""
        return (*self.open_incidents, *self.past_incidents)


def state_of(incident: PublicIncident, policy: Policy) -> ComponentState:
    """How an open public incident shows its components (its severity, through the policy)."""
    return policy.status_page.state_for(incident.severity)


def build_snapshot(
    incidents: Iterable[PublicIncident],
    policy: Policy,
    *,
    now: datetime,
    days: int = HISTORY_DAYS,
    maintenances: Sequence[Maintenance] = (),
) -> StatusSnapshot:
    """The page from the published incidents (private ones, and those with no update, are left out)."""
    zone = ZoneInfo(policy.timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    shown = [i for i in incidents if not i.private and i.updates]
    names = components_of(policy)
    affects: dict[str, tuple[str, ...]] = {
        i.public_id: (i.service,) if i.service is not None and i.service in names else () for i in shown
    }
    states = {i.public_id: state_of(i, policy) for i in shown}
    open_ones = sorted((i for i in shown if not i.resolved), key=lambda i: i.created_at, reverse=True)
    past = sorted(
        (i for i in shown if i.resolved and _day(i.updated_at, zone) >= first_day),
        key=lambda i: i.created_at,
        reverse=True,
    )
    components = []
    for name in names:
        mine = [i for i in shown if name in affects[i.public_id]]
        current = _worst(states[i.public_id] for i in mine if not i.resolved)
        history = _history(mine, states, first_day, today, zone)
        components.append(Component(name, current, history))
    return StatusSnapshot(
        title=policy.status_page.title,
        today=today,
        components=tuple(components),
        open_incidents=tuple(open_ones),
        past_incidents=tuple(past),
        incident_state=states,
        incident_components=affects,
        maintenances=tuple(maintenances),
        days=days,
    )


def _history(
    incidents: list[PublicIncident],
    states: dict[str, ComponentState],
    first_day: date,
    today: date,
    zone: ZoneInfo,
) -> tuple[Day, ...]:
    """Each day from `first_day` to `today`: the worst state of the incidents open (publicly) that day."""
    worst: dict[date, ComponentState] = {}
    titles: dict[date, list[str]] = {}
    for incident in incidents:
        start = max(_day(incident.created_at, zone), first_day)
        end = _day(incident.resolved_at, zone) if incident.resolved_at is not None else today
        day = start
        while day <= min(end, today):
            state = states[incident.public_id]
            if day not in worst or state.rank > worst[day].rank:
                worst[day] = state
            titles.setdefault(day, []).append(incident.title)
            day += timedelta(days=1)
    span = (today - first_day).days + 1
    return tuple(
        Day(d, worst.get(d, ComponentState.OPERATIONAL), tuple(titles.get(d, ())))
        for d in (first_day + timedelta(days=n) for n in range(span))
    )


def _worst(states: Iterable[ComponentState]) -> ComponentState:
    return max(states, key=lambda s: s.rank, default=ComponentState.OPERATIONAL)


def _day(when: datetime, zone: ZoneInfo) -> date:
    return when.astimezone(zone).date()
