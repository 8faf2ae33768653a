"""The schedules as they stand: the policy's, with the overrides made from Slack added (the core's
`ScheduleSnapshots` hook, so a page keeps them as they were when it started). Everything that asks who is
on call beyond the policy file (`/incident oncall`, App Home, calendar feeds, handovers) reads them here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.escalation import Plan
from bot.domain.oncall import SHIFT_REACH
from bot.domain.policy import Policy, Schedule
from bot.domain.shift_values import StoredOverride
from bot.domain.user_refs import Directory, is_email
from bot.usecases.directory import UserDirectory
from bot.usecases.oncall import OnCallLookup, OnCallRow
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory

PAST_REACH = SHIFT_REACH + timedelta(days=1)  # stored overrides this old still shape a turn's start


def with_overrides(schedules: Mapping[str, Schedule], stored: Sequence[StoredOverride]) -> dict[str, Schedule]:
    """`schedules` with the stored overrides added after the policy's own (so they win where both cover)."""
    result: dict[str, Schedule] = {}
    for name, schedule in schedules.items():
        added = [o.as_policy() for o in stored if o.schedule == name and o.removed_at is None]
        result[name] = schedule.model_copy(update={"overrides": [*schedule.overrides, *added]}) if added else schedule
    return result


@dataclass(frozen=True)
class ScheduleBook:
    """The schedules with the overrides made from Slack."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    people: UserDirectory | None = None  # whose the schedules' e-mail addresses are

    async def effective(self, uow: UnitOfWork, schedules: Mapping[str, Schedule]) -> dict[str, Schedule]:
        """`schedules` with every stored override added, read in the caller's unit of work."""
        if not schedules:
            return {}
        stored = await uow.shifts.overrides(list(schedules), ending_after=self.clock() - PAST_REACH)
        return with_overrides(schedules, stored)

    async def snapshot(self, uow: UnitOfWork, plan: Plan) -> Plan:
        """`plan` with its schedules as they stand (what the page keeps, whatever changes later)."""
        return replace(plan, schedules=await self.effective(uow, plan.schedules))

    async def schedules(self) -> dict[str, Schedule]:
        """Every schedule of the policy, as it stands now."""
        async with self.uow(read_only=True) as uow:
            return await self.effective(uow, self.policy.schedules)

    async def on_call_now(self, service: str | None, *, now: datetime | None = None) -> list[OnCallRow]:
        """For `/incident oncall`: each schedule (of a service, or all) with who is on call and the next
        handoff, overrides made from Slack included."""
        standing = self.policy.model_copy(update={"schedules": await self.schedules()})
        return OnCallLookup(standing, lambda: now or self.clock()).now(service)

    async def directory(self, schedules: Iterable[Schedule]) -> Directory:
        """Whose the e-mail addresses naming people in `schedules` are (IDs need no look-up)."""
        emails = {
            ref
            for schedule in schedules
            for ref in [*(u for layer in schedule.layers for u in layer.users), *(o.user for o in schedule.overrides)]
            if is_email(ref)
        }
        if not emails or self.people is None:
            return Directory()
        found = await self.people.resolve_all(sorted(emails))
        return Directory({r.ref: r.user_id for r in found if r.user_id})
