"""Shift handovers: what a handoff's digest says (from plain data), which services and pages are a
schedule's, and when a schedule is next looked at. Pure.

At each handoff the incoming and outgoing people get one digest: the open incidents of the schedule's
services, the pages of the shift that ended (acknowledged, by whom and how fast; unacknowledged), the
alerts still firing, and the notes the outgoing person left with `/incident oncall handover`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.oncall import next_handoff, on_call
from bot.domain.policy import Policy, Schedule

LOOK_AHEAD = timedelta(days=35)  # a schedule with no handoff this far ahead is looked at again then
MAX_NOTE = 3000
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


@dataclass(frozen=True, slots=True)
class ShiftPage:
    """A page of the shift that ended."""

    page_id: int
    title: str
    severity: str
    status: str
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """How long it took to acknowledge (None: nobody did)."""
        if self.acknowledged_at is None:
            return None
        return max(timedelta(0), self.acknowledged_at - self.created_at)


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """An open incident of one of the schedule's services (a private one shows only that it exists)."""

    reference: str
    title: str
    severity: str
    status: str
    channel_id: str | None
    private: bool = False


@dataclass(frozen=True, slots=True)
class FiringAlert:
    """An alert still firing for the schedule (its service's, or one that paged the schedule)."""

    title: str
    source: str
    since: datetime


@dataclass(frozen=True, slots=True)
class HandoverNote:
    """A note someone on call left for the next person."""

    author: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    """One handoff's digest: the shift that ended (`since` → `at`) and what the next one inherits."""

    schedule: str
    at: datetime
    since: datetime | None
    outgoing: str | None
    incoming: str | None
    incidents: list[OpenIncident] = field(default_factory=list)
    pages: list[ShiftPage] = field(default_factory=list)
    alerts: list[FiringAlert] = field(default_factory=list)
    notes: list[HandoverNote] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[ShiftPage]:
        """The shift's pages somebody acknowledged, oldest first."""
        return [p for p in self.pages if p.acknowledged_at is not None]

    @property
    def unacknowledged(self) -> list[ShiftPage]:
        """The shift's pages nobody acknowledged, oldest first."""
        return [p for p in self.pages if p.acknowledged_at is None]

    @property
    def quiet(self) -> bool:
        """Nothing to hand over: no incident, page, alert or note."""
        return not (self.incidents or self.pages or self.alerts or self.notes)


def schedule_services(policy: Policy, schedule: str) -> list[str]:
    """The services whose escalation policy names `schedule` in one of its tiers."""
    wanted = f"schedule:{schedule}"
    found: list[str] = []
    for name, service in policy.services.items():
        escalation = policy.escalation_policies.get(service.escalation_policy or "")
        if escalation and any(wanted in tier.notify for tier in escalation.tiers):
            found.append(name)
    return found


def plan_names_schedule(plan: Mapping[str, Any], schedule: str) -> bool:
    """Whether a page's stored plan (its JSON) paged `schedule`."""
    schedules = plan.get("schedules") or {}
    if schedule in schedules:
        return True
    return any(f"schedule:{schedule}" in (tier.get("notify") or []) for tier in plan.get("tiers") or [])


def next_look(schedule: Schedule, now: datetime) -> datetime:
    """When to look at `schedule` next: its next handoff, or (none in sight) after LOOK_AHEAD, in UTC."""
    handoff = next_handoff(schedule, now, horizon=LOOK_AHEAD)
    return (handoff.at if handoff else now + LOOK_AHEAD).astimezone(UTC)


def handed_over_at(schedule: Schedule, due_at: datetime, now: datetime, incoming: str | None) -> datetime:
    """When the hand-over to `incoming` took place, for a boundary due at `due_at` and seen at `now`: the
    boundary itself when `incoming` took over there and still holds it, else (the boundary is no longer
    the latest: Tocsin was down meanwhile) `now`."""
    if due_at > now or on_call(schedule, due_at) != incoming:
        return now
    following = next_handoff(schedule, due_at, horizon=max(now - due_at, timedelta(seconds=1)))
    return now if following is not None and following.at <= now else due_at.astimezone(UTC)


def is_group_id(value: str) -> bool:
    """Whether a schedule's `usergroup` is a Slack user group ID (S…) rather than a handle."""
    return bool(_GROUP_ID.match(value))


def group_handle(value: str) -> str:
    """A user group handle as written in the policy (`@checkout-oncall`) without its `@`, lowercased."""
    return value.strip().lstrip("@").lower()


def boundary_key_time(at: datetime) -> str:
    """A boundary's moment as it goes in a job key (UTC, so every replica writes the same key)."""
    return at.astimezone(UTC).isoformat()
