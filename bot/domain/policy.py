"""The policy (`tocsin.yml`): pydantic models and defaults from incident-management practice (reading
the file: policy_file.py).

An empty file is valid. Unknown keys are refused with the path of the key.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from bot.domain import contact_policy, context_policy, type_policy, watch_policy
from bot.domain.contact_policy import ContactMethods, People
from bot.domain.context_policy import BridgePolicy
from bot.domain.durations import Duration, parse_duration
from bot.domain.policy_levels import Role, Severity, default_roles, default_severities
from bot.domain.policy_levels import StrictModel as _Strict
from bot.domain.privacy import PrivateIncidents
from bot.domain.status_policy import StatusPagePolicy
from bot.domain.tracker_policy import FollowUpsPolicy, Trackers
from bot.domain.type_policy import IncidentTypes
from bot.domain.user_refs import NotifyTarget, UserRef, grant_problems
from bot.domain.watch_policy import Heartbeats, MaintenanceWindows
from bot.domain.webhook_policy import WebhookTargets

_CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")


class Override(_Strict):
    """Someone covering a schedule for a fixed window (ISO 8601 times with a zone, e.g. ...Z)."""

    user: UserRef
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _window(self) -> Override:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("override start and end need a time zone, e.g. 2026-11-22T09:00:00Z")
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")
        return self


_HANDOFF = re.compile(r"^(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?([01]\d|2[0-3]):([0-5]\d)$", re.IGNORECASE)
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)$")


class Layer(_Strict):
    """One rotation: who takes turns, when they hand over, and (for follow-the-sun) which hours it covers."""

    name: str = "default"
    rotation: str = "weekly"  # daily | weekly | a duration such as 12h
    handoff: str = "mon 09:00"  # "mon 09:00" for weekly rotations, "09:00" otherwise
    users: list[UserRef] = Field(min_length=1)
    start: date = date(2024, 1, 1)  # users[0] takes the first shift starting on or after this date
    hours: str | None = None  # "09:00-17:00" in the layer's time zone; none means all day
    timezone: str | None = None  # the wall clock its hours and handoff are read on; none: the schedule's

    @field_validator("rotation")
    @classmethod
    def _rotation(cls, value: str) -> str:
        if value not in ("daily", "weekly"):
            parse_duration(value)  # raises with a clear message
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        if not _HANDOFF.match(value.strip()):
            raise ValueError(f"{value!r} must look like 'mon 09:00' (weekly) or '09:00'")
        return value.strip().lower()

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and not _HOURS.match(value.strip()):
            raise ValueError(f"{value!r} must look like '09:00-17:00'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)

    @model_validator(mode="after")
    def _weekly_needs_a_day(self) -> Layer:
        day = _HANDOFF.match(self.handoff).group(1)  # type: ignore[union-attr]
        if self.rotation == "weekly" and day is None:
            raise ValueError("a weekly rotation's handoff names a day, e.g. 'mon 09:00'")
        if self.rotation != "weekly" and day is not None:
            raise ValueError("only weekly rotations name a day in their handoff; write e.g. '09:00'")
        return self


class Schedule(_Strict):
    """An on-call schedule: one rotation (rotation/handoff/users) or several layers, plus overrides.

    With layers, the last layer that covers a moment decides who is on call (follow-the-sun: give
    each layer its hours); overrides beat every layer.
    """

    timezone: str = "UTC"
    rotation: str | None = None
    handoff: str | None = None
    users: list[UserRef] | None = None
    start: date | None = None
    hours: str | None = None
    layers: list[Layer] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    usergroup: str | None = None  # a Slack user group (S… ID or handle) kept to whoever is on call
    handover_channel: str | None = None  # where each handoff's digest is also posted

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _one_shape(self, info: ValidationInfo) -> Schedule:
        flat = self.users is not None
        if flat == bool(self.layers):
            raise ValueError("give a schedule either users (with rotation and handoff) or layers")
        if flat:
            rotation = self.rotation or "weekly"
            shape = {
                "rotation": rotation,
                "handoff": self.handoff or ("mon 09:00" if rotation == "weekly" else "09:00"),
                "users": self.users or [],
                "start": self.start or date(2024, 1, 1),
                "hours": self.hours,
            }
            single = Layer.model_validate(shape, context=info.context)
            object.__setattr__(self, "layers", [single])
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)

    def canonical(self) -> dict[str, object]:
        """The schedule in its layered form only (what a page snapshots; loads back as the same schedule)."""
        return self.model_dump(mode="json", include={"timezone", "layers", "overrides"})


class EscalationTier(_Strict):
    """Who to notify, and how long to wait before the next tier."""

    notify: list[NotifyTarget] = Field(min_length=1)
    after: Duration = timedelta(minutes=5)
    min_severity: str | None = None
    strategy: Literal["all", "round_robin"] = "all"  # round_robin: one of `notify` per page, in turn

    @field_validator("after")
    @classmethod
    def _some_time(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s: the time this tier has to acknowledge before the next")
        return value


class EscalationPolicy(_Strict):
    """Ordered tiers; `repeat` runs them again when nobody acknowledges."""

    repeat: int = Field(default=0, ge=0, le=10)
    ack_timeout: Duration | None = None
    tiers: list[EscalationTier] = Field(min_length=1)

    @field_validator("ack_timeout")
    @classmethod
    def _some_time(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than 0s (leave it out for acknowledgements that never run out)")
        return value


class Service(_Strict):
    """Something that breaks: how to recognise it and who to page."""

    keywords: list[str] = Field(default_factory=list)
    owners: list[UserRef] = Field(default_factory=list)
    escalation_policy: str | None = None
    page_on_declare: list[str] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)
    private: bool = False  # incidents matched to this service are private unless declared otherwise
    status_page: bool = False  # shown as a component on the public status page
    tracker: str | None = None  # where its follow-ups become issues (a `trackers:` name)
    bridge: BridgePolicy | None = None  # its incidents' call (over the severity's and the policy's)


class Permissions(_Strict):
    """Who may do what: `anyone`, `admins`, a role key (e.g. incident_commander) or a user (ID or e-mail)."""

    declare: list[str] = Field(default_factory=lambda: ["anyone"])
    severity: list[str] = Field(default_factory=lambda: ["anyone"])
    resolve: list[str] = Field(default_factory=lambda: ["incident_commander", "comms_lead", "admins"])
    # Assigning roles to others (anyone may claim a vacant role; a held IC role passes only by the IC or an admin).
    roles: list[str] = Field(default_factory=lambda: ["incident_commander", "comms_lead", "admins"])
    status: list[str] = Field(default_factory=lambda: ["incident_commander", "comms_lead", "admins"])
    reopen: list[str] = Field(default_factory=lambda: ["incident_commander", "comms_lead", "admins"])
    declare_private: list[str] = Field(default_factory=lambda: ["anyone"])
    make_public: list[str] = Field(default_factory=lambda: ["incident_commander", "admins"])


class AlertRoute(_Strict):
    """How matching alerts are handled: which service (and so escalation policy), how their severity
    label maps, whether to declare an incident, and where to post the notice."""

    match: dict[str, str] = Field(default_factory=dict)  # label: value, all must match; empty matches all
    service: str | None = None
    escalation_policy: str | None = None
    severity_map: dict[str, str] = Field(default_factory=dict)  # severity label value -> severity name
    declare_at: str | None = None  # declare an incident when the alert is at or above this severity
    channel: str | None = None  # where the alert notice goes (default: the broadcast channel)


class AlertsPolicy(_Strict):
    """Alert routing: the first matching route wins; anything else takes the default route."""

    routes: list[AlertRoute] = Field(default_factory=list)
    default: AlertRoute = Field(default_factory=AlertRoute)


class Policy(_Strict):
    """The whole policy file with its defaults."""

    channel_prefix: str = "inc"
    broadcast_channel: str | None = "#incidents"
    timeline_reaction: str = "pushpin"
    runbooks_dir: str | None = None  # None: the runbooks shipped with Tocsin
    postmortem_template: str | None = None  # a Jinja2 Markdown template; Tocsin's own when unset
    alerts: AlertsPolicy = Field(default_factory=AlertsPolicy)
    first_update_within: Duration = timedelta(minutes=15)
    default_severity: str = "SEV3"
    timezone: str = "UTC"
    severities: list[Severity] = Field(default_factory=default_severities, min_length=1)
    roles: list[Role] = Field(default_factory=default_roles)
    admins: list[UserRef] = Field(default_factory=list)
    permissions: Permissions = Field(default_factory=Permissions)
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    escalation_policies: dict[str, EscalationPolicy] = Field(default_factory=dict)
    services: dict[str, Service] = Field(default_factory=dict)
    private_incidents: PrivateIncidents = Field(default_factory=PrivateIncidents)
    webhooks: WebhookTargets = Field(default_factory=list)
    status_page: StatusPagePolicy = Field(default_factory=StatusPagePolicy)
    trackers: Trackers = Field(default_factory=dict)
    follow_ups: FollowUpsPolicy = Field(default_factory=FollowUpsPolicy)
    contact_methods: ContactMethods = Field(default_factory=ContactMethods)
    people: People = Field(default_factory=dict)
    heartbeats: Heartbeats = Field(default_factory=dict)
    maintenance: MaintenanceWindows = Field(default_factory=list)
    bridge: BridgePolicy | None = None
    archive_after: Duration | None = None  # archive a channel this long after its postmortem is done
    types: IncidentTypes = Field(default_factory=dict)

    @field_validator("channel_prefix")
    @classmethod
    def _prefix_is_a_channel_name(cls, value: str) -> str:
        if not _CHANNEL_PREFIX.match(value):
            raise ValueError("must be 1-20 characters of a-z, 0-9, - and _ (a Slack channel name start)")
        return value

    @field_validator("timeline_reaction")
    @classmethod
    def _reaction_name(cls, value: str) -> str:
        return value.strip(":")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> Policy:
        if isinstance(info.context, dict) and info.context.get(SHAPE_ONLY):
            return self
        problems: list[str] = []
        names = [s.name for s in self.severities]
        if len(set(n.upper() for n in names)) != len(names):
            problems.append("severities: names must be unique")
        if self.default_severity.upper() not in {n.upper() for n in names}:
            problems.append(f"default_severity: {self.default_severity!r} is not one of {', '.join(names)}")
        role_keys = [r.key for r in self.roles]
        for required in ("incident_commander",):
            if required not in role_keys:
                problems.append(f"roles: the {required} role is required")
        for act, grants in self.permissions.model_dump().items():
            problems += grant_problems(f"permissions.{act}", grants, role_keys)
        for name, policy in self.escalation_policies.items():
            for index, tier in enumerate(policy.tiers):
                if tier.min_severity is not None and self.severity_named(tier.min_severity) is None:
                    problems.append(
                        f"escalation_policies.{name}.tiers[{index}].min_severity: "
                        f"{tier.min_severity!r} is not a severity"
                    )
                for number, target in enumerate(tier.notify):
                    kind, _, ref = target.partition(":")
                    if kind == "schedule" and ref not in self.schedules:
                        problems.append(
                            f"escalation_policies.{name}.tiers[{index}].notify[{number}]: unknown schedule {ref!r}"
                        )
        for index, route in enumerate([*self.alerts.routes, self.alerts.default]):
            where = f"alerts.routes[{index}]" if index < len(self.alerts.routes) else "alerts.default"
            if route.service and route.service not in self.services:
                problems.append(f"{where}.service: unknown service {route.service!r}")
            if route.escalation_policy and route.escalation_policy not in self.escalation_policies:
                problems.append(f"{where}.escalation_policy: unknown escalation policy {route.escalation_policy!r}")
            for value in [*route.severity_map.values(), *([route.declare_at] if route.declare_at else [])]:
                if self.severity_named(value) is None:
                    problems.append(f"{where}: {value!r} is not a severity")
        for name, service in self.services.items():
            if service.escalation_policy and service.escalation_policy not in self.escalation_policies:
                problems.append(
                    f"services.{name}.escalation_policy: unknown escalation policy {service.escalation_policy!r}"
                )
            for sev in service.page_on_declare:
                if self.severity_named(sev) is None:
                    problems.append(f"services.{name}.page_on_declare: {sev!r} is not a severity")
        problems += self.status_page.problems(
            severity_known=lambda s: self.severity_named(s) is not None, roles=set(role_keys), services=self.services
        )
        for section in (contact_policy, watch_policy, context_policy, type_policy):
            problems += section.problems(self)
        if problems:  # every problem at once, "; "-separated (tocsin check lists each)
            raise ValueError(PROBLEM_SEPARATOR.join(problems))
        return self

    def severity_named(self, name: str) -> Severity | None:
        """The severity with this name (case-insensitive), or None."""
        wanted = name.strip().upper()
        return next((s for s in self.severities if s.name.upper() == wanted), None)

    def stakeholder_channels(self, severity: str) -> list[str]:
        """Where declare, update and resolve are announced for a severity: broadcast, then its notify list."""
        channels = [self.broadcast_channel] if self.broadcast_channel else []
        named = self.severity_named(severity)
        for channel in named.notify if named else []:
            if channel not in channels:
                channels.append(channel)
        return channels

    def rank(self, severity: str) -> int:
        """0 for the most severe; unknown severities rank last."""
        names = [n.upper() for n in self.severity_names]
        return names.index(severity.upper()) if severity.upper() in names else len(names)

    @property
    def severity_names(self) -> list[str]:
        """Severity names, most severe first."""
        return [s.name for s in self.severities]

    def role(self, word: str) -> Role | None:
        """The role a user means by `word` (its key, name or an alias), or None."""
        wanted = word.strip().lower().replace(" ", "_").replace("-", "_")
        for role in self.roles:
            candidates = {role.key, role.name.lower().replace(" ", "_"), *(a.lower() for a in role.aliases)}
            if wanted in candidates:
                return role
        return None


PROBLEM_SEPARATOR = "; "  # between the problems one ValueError lists
SHAPE_ONLY = "shape_only"  # a validation-context flag: skip the checks across keys (tocsin check's last look)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/London)") from None
    return value
