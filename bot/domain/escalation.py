"""Escalation plans and their steps. Pure.

A page carries a *plan*: the escalation policy (and the schedules it names) as they were when the page
started, as plain JSON, so editing the policy never changes a running escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.oncall import on_call
from bot.domain.policy import EscalationPolicy, Policy, Schedule
from bot.domain.user_refs import AS_WRITTEN, parse_target

DIRECT_PAGE_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Tier:
    """Who to notify, and how long to wait for an acknowledgement before the next tier."""

    notify: tuple[str, ...]
    after: timedelta
    min_severity: str | None = None
    strategy: str = "all"  # round_robin: one of its targets per page, in turn (bot/usecases/round_robin.py)


@dataclass(frozen=True, slots=True)
class Plan:
    """A snapshotted escalation policy."""

    name: str
    repeat: int
    tiers: tuple[Tier, ...]
    schedules: dict[str, Schedule]
    ack_timeout: timedelta | None = None  # an acknowledged page not resolved by then escalates again

    def reopens_at(self, acknowledged_at: datetime) -> datetime | None:
        """When an acknowledgement given at `acknowledged_at` runs out (None: it never does)."""
        return acknowledged_at + self.ack_timeout if self.ack_timeout else None

    def to_json(self) -> dict[str, Any]:
        """The plan as stored on the page."""
        return {
            "name": self.name,
            "repeat": self.repeat,
            "tiers": [
                {
                    "notify": list(t.notify),
                    "after": t.after.total_seconds(),
                    "min_severity": t.min_severity,
                    "strategy": t.strategy,
                }
                for t in self.tiers
            ],
            "schedules": {name: s.canonical() for name, s in self.schedules.items()},
            "ack_timeout": self.ack_timeout.total_seconds() if self.ack_timeout else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """A plan read back from a page."""
        return cls(
            name=data["name"],
            repeat=int(data["repeat"]),
            tiers=tuple(
                # A plan stored before tiers had a strategy notifies all of each tier.
                Tier(tuple(t["notify"]), timedelta(seconds=t["after"]), t.get("min_severity"), t.get("strategy", "all"))
                for t in data["tiers"]
            ),
            # As it was when the page started: a stricter Tocsin since then must not strand the page.
            schedules={
                name: Schedule.model_validate(s, context={AS_WRITTEN: True})
                for name, s in data.get("schedules", {}).items()
            },
            ack_timeout=timedelta(seconds=data["ack_timeout"]) if data.get("ack_timeout") else None,
        )


def plan_for_policy(name: str, policy: Policy) -> Plan:
    """Snapshot the named escalation policy with the schedules it uses."""
    escalation: EscalationPolicy = policy.escalation_policies[name]
    used = {ref.partition(":")[2] for tier in escalation.tiers for ref in tier.notify if ref.startswith("schedule:")}
    return Plan(
        name=name,
        repeat=escalation.repeat,
        tiers=tuple(Tier(tuple(t.notify), t.after, t.min_severity, t.strategy) for t in escalation.tiers),
        schedules={s: policy.schedules[s] for s in sorted(used)},
        ack_timeout=escalation.ack_timeout,
    )


def plan_for_user(user_id: str) -> Plan:
    """Paging one person: a single tier, no repeats."""
    return Plan(
        name=f"user:{user_id}", repeat=0, tiers=(Tier((f"user:{user_id}",), DIRECT_PAGE_TIMEOUT),), schedules={}
    )


@dataclass(frozen=True, slots=True)
class Step:
    """What a page does when its step time comes: notify a tier (then wait), or give up."""

    exhausted: bool
    tier_index: int = 0  # among the tiers that apply to the page's severity
    round: int = 0
    tier: Tier | None = None
    next_tier: int = 0
    next_round: int = 0
    next_at: datetime | None = None


def applicable(plan: Plan, severity: str, policy: Policy) -> list[Tier]:
    """The tiers that apply to a page of `severity` (a tier with min_severity SEV1 is for SEV1 only)."""
    rank = policy.rank(severity)
    return [t for t in plan.tiers if t.min_severity is None or rank <= policy.rank(t.min_severity)]


def next_step(plan: Plan, severity: str, policy: Policy, *, tier: int, round: int, now: datetime) -> Step:
    """The step a page takes at `now`, given the next tier and round it is at."""
    tiers = applicable(plan, severity, policy)
    if tier >= len(tiers):
        if round >= plan.repeat or not tiers:
            return Step(exhausted=True, round=round)
        tier, round = 0, round + 1
    chosen = tiers[tier]
    return Step(
        exhausted=False,
        tier_index=tier,
        round=round,
        tier=chosen,
        next_tier=tier + 1,
        next_round=round,
        next_at=now + chosen.after,
    )


@dataclass(frozen=True, slots=True)
class Targets:
    """Who a tier means at a moment: users as the policy names them (IDs or e-mail addresses, schedules
    already resolved to whoever is on call), user group IDs, and entries that name nobody Tocsin can page."""

    users: list[str]
    groups: list[str]
    unusable: list[tuple[str, str]]  # (the entry, why nobody can be paged by it)


def targets(tier: Tier, plan: Plan, now: datetime) -> Targets:
    """Who a tier means at `now` (a schedule with nobody on call means nobody, which is not a fault)."""
    found = Targets([], [], [])
    for ref in tier.notify:
        try:
            target = parse_target(ref)
        except ValueError as exc:  # a plan stored before Tocsin checked its users
            found.unusable.append((ref, str(exc)))
            continue
        if target.kind == "schedule":
            schedule = plan.schedules.get(target.value)
            person = on_call(schedule, now) if schedule else None
            if person:
                found.users.append(person)
        elif target.kind == "user":
            found.users.append(target.value)
        else:
            found.groups.append(target.value)
    return found


def total_steps(plan: Plan, severity: str, policy: Policy) -> int:
    """How many tiers the page runs through in all (with repeats)."""
    return len(applicable(plan, severity, policy)) * (plan.repeat + 1)


@dataclass(frozen=True, slots=True)
class NewPage:
    """A page to start: the plan it follows, what started it and for whom; title and severity default to
    its incident's (or, without one, the source and the policy's default severity)."""

    plan: Plan
    source: str
    actor: str
    team_id: str
    title: str | None = None
    severity: str | None = None
    dedup_key: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """A stored page."""

    id: int
    team_id: str
    incident_id: int | None
    title: str
    severity: str
    source: str
    plan: Plan
    status: str
    tier: int
    round: int
    next_step_at: datetime | None
    created_by: str
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Still escalating."""
        return self.status == TRIGGERED


@dataclass(frozen=True, slots=True)
class Notification:
    """A DM sent for a page step."""

    user_id: str
    round: int
    tier: int
    channel: str | None
    ts: str | None
    digest_id: int | None = None  # shown in a storm's digest DM rather than a DM of its own


TRIGGERED, ACKNOWLEDGED, EXHAUSTED, CANCELLED = "triggered", "acknowledged", "exhausted", "cancelled"
