"""Who is on call (`/incident oncall`): each schedule, of one service or all, with who holds it now and
the next handoff. Read from the policy and the clock only. Part of paging (paging.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.oncall import next_handoff, on_call
from bot.domain.policy import Policy
from bot.usecases.ports import Clock

OnCallRow = tuple[str, str | None, datetime | None, str | None]  # schedule, on call now, next handoff: when, to whom


@dataclass(frozen=True)
class OnCallLookup:
    """Who the policy's schedules have on call now."""

    policy: Policy
    clock: Clock

    def now(self, service: str | None) -> list[OnCallRow]:
        """Each schedule (the ones a service's escalation policy names, or all) with who is on call and
        the next handoff."""
        policy, now = self.policy, self.clock()
        names = list(policy.schedules)
        if service is not None:
            escalation = policy.escalation_policies.get(policy.services[service].escalation_policy or "")
            refs = [r for tier in escalation.tiers for r in tier.notify] if escalation else []
            names = [r.partition(":")[2] for r in refs if r.startswith("schedule:")]
        rows: list[OnCallRow] = []
        for name in dict.fromkeys(names):
            schedule = policy.schedules[name]
            handoff = next_handoff(schedule, now)
            when, to = (handoff.at, handoff.user) if handoff else (None, None)
            rows.append((name, on_call(schedule, now), when, to))
        return rows
