"""Shift handoffs: noticing them (the `shift.boundary` job), recording each once across replicas, and
planning what follows (the digests, the user group's sync, the next boundary); handover notes.

A boundary job is planned for each schedule's next handoff (at start, and by each boundary job for the
next one; the shifts capability plans more at overrides' starts and ends). When one fires, who is on call
now is compared with who was last seen: a change is recorded by a conditional update, so of two jobs
firing together (two replicas, or a handoff and an override) only one hands over. A job fired late
(Tocsin was down) compares with now too: one digest for whoever holds the shift now, never a backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.events import Subject, new_event
from bot.domain.events_beyond import OncallHandoff
from bot.domain.handovers import boundary_key_time, handed_over_at, next_look
from bot.domain.jobs import Job, JobDone, JobOutcome, job_key
from bot.domain.oncall import on_call
from bot.domain.policy import Policy, Schedule
from bot.runtime.logs import event
from bot.usecases.directory import UserDirectory
from bot.usecases.hooks import ScheduleSnapshots
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

BOUNDARY = "shift.boundary"
DIGEST = "handover.digest"
USERGROUP_SYNC = "usergroup.sync"


async def schedules_now(uow: UnitOfWork, policy: Policy, snapshots: ScheduleSnapshots | None) -> dict[str, Schedule]:
    """The schedules as they stand: the policy's, with the overrides made from Slack when the shifts
    capability is there."""
    if snapshots is None:
        return dict(policy.schedules)
    return await snapshots.effective(uow, policy.schedules)


def boundary_key(schedule: str, at: datetime) -> str:
    """The key of the boundary job for `schedule` at `at` (the same on every replica)."""
    return job_key(BOUNDARY, schedule, boundary_key_time(at))


@dataclass
class Handoffs:
    """Noticing handoffs and planning what follows each; handover notes."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    directory: UserDirectory
    wake_jobs: Callable[[], None]
    snapshots: ScheduleSnapshots | None = None

    async def start(self) -> None:
        """Once the database is ready: look at every schedule (the first time: note who is on call, no
        digest), plan its next boundary, and look again now at one whose holder changed while Tocsin was
        stopped with no boundary job left to notice it (its policy was edited)."""
        now = self.clock()
        due_now = False
        async with self.uow() as uow:
            for name, schedule in (await schedules_now(uow, self.policy, self.snapshots)).items():
                holder = on_call(schedule, now)
                if not await uow.handovers.first_look(name, holder=holder, now=now):
                    due_now |= await self._look_again(uow, name, holder, now)
                seen = await uow.handovers.holder(name)
                if schedule.usergroup and seen is not None:  # once per holder: a group added since is set now
                    due_now |= await self._plan_sync(uow, name, seen[1], now=now)
                at = next_look(schedule, now)
                await uow.jobs.schedule(BOUNDARY, boundary_key(name, at), due_at=at, payload={"schedule": name})
            await uow.commit()
        if due_now:
            self.wake_jobs()

    async def boundary(self, job: Job) -> JobOutcome:
        """A `shift.boundary` job: hand over if who is on call changed, and plan the next boundary."""
        name = str(job.payload.get("schedule", ""))
        now = self.clock()
        async with self.uow() as uow:
            schedule = (await schedules_now(uow, self.policy, self.snapshots)).get(name)
            if schedule is None:
                return JobDone("no such schedule any more")
            incoming = on_call(schedule, now)
            seen = await uow.handovers.holder(name)
            handoff: OncallHandoff | None = None
            if seen is None:
                await uow.handovers.first_look(name, holder=incoming, now=now)
            elif seen[0] != incoming:
                at = handed_over_at(schedule, job.due_at, now, incoming)
                if await uow.handovers.hand_over(name, expected=seen[0], incoming=incoming, now=at):
                    handoff = OncallHandoff(schedule=name, at=at, outgoing=seen[0], incoming=incoming)
                    await uow.events.append(
                        new_event(handoff, subject=Subject(topic=f"schedule:{name}"), actor=None, at=now)
                    )
                    await self._plan_digests(uow, handoff, schedule, since=seen[1], now=now)
                    if schedule.usergroup:
                        await self._plan_sync(uow, name, at, now=now)
            following = next_look(schedule, now)
            await uow.jobs.schedule(
                BOUNDARY, boundary_key(name, following), due_at=following, payload={"schedule": name}
            )
            await uow.commit()
        if handoff is None:
            return JobDone("no change")
        event(
            log,
            "on-call for %s handed over from %s to %s",
            name,
            handoff.outgoing or "nobody",
            handoff.incoming or "nobody",
            schedule=name,
        )
        self.wake_jobs()
        return JobDone(f"handed over to {handoff.incoming or 'nobody'}")

    async def _plan_digests(
        self, uow: UnitOfWork, handoff: OncallHandoff, schedule: Schedule, *, since: datetime, now: datetime
    ) -> None:
        """One digest job per reader (each retried on its own): the incoming and the outgoing person, and
        the schedule's handover channel."""
        common: dict[str, Any] = {
            "schedule": handoff.schedule,
            "since": since.isoformat(),
            "at": handoff.at.isoformat(),
            "outgoing": handoff.outgoing,
            "incoming": handoff.incoming,
        }
        readers: list[tuple[str, str]] = []
        if handoff.incoming:
            readers.append(("incoming", handoff.incoming))
        if handoff.outgoing and handoff.outgoing != handoff.incoming:
            readers.append(("outgoing", handoff.outgoing))
        if schedule.handover_channel:
            readers.append(("channel", schedule.handover_channel))
        for role, to in readers:
            key = job_key(DIGEST, handoff.schedule, boundary_key_time(handoff.at), role)
            await uow.jobs.schedule(DIGEST, key, due_at=now, payload={**common, "role": role, "to": to})

    async def _look_again(self, uow: UnitOfWork, name: str, holder: str | None, now: datetime) -> bool:
        """Whether a boundary job due now was planned for a schedule whose holder changed while Tocsin was
        stopped and that has no boundary job due to notice it (its policy was edited meanwhile)."""
        seen = await uow.handovers.holder(name)
        if seen is None or seen[0] == holder:
            return False
        pending = await uow.jobs.pending_of_kind(BOUNDARY, prefix=job_key(BOUNDARY, name, ""), limit=1)
        if pending and pending[0].due_at <= now:
            return False
        return await uow.jobs.schedule(BOUNDARY, boundary_key(name, now), due_at=now, payload={"schedule": name})

    async def _plan_sync(self, uow: UnitOfWork, name: str, since: datetime, *, now: datetime) -> bool:
        """Plan setting the schedule's user group, once per holder (keyed by when they took over)."""
        key = job_key(USERGROUP_SYNC, name, boundary_key_time(since))
        return await uow.jobs.schedule(USERGROUP_SYNC, key, due_at=now, payload={"schedule": name})

    async def on_call_for(self, user_id: str) -> list[str]:
        """The schedules `user_id` is on call for now."""
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            schedules = await schedules_now(uow, self.policy, self.snapshots)
        holders = {name: on_call(schedule, now) for name, schedule in schedules.items()}
        refs = sorted({h for h in holders.values() if h})
        whose = {r.ref: r.user_id for r in await self.directory.resolve_all(refs)}
        return [name for name, holder in holders.items() if holder and whose.get(holder) == user_id]

    async def add_note(self, *, actor: str, text: str) -> list[str]:
        """Leave a note for the next handover of every schedule `actor` is on call for now; those schedules
        (none: the person is not on call, and nothing is kept)."""
        names = await self.on_call_for(actor)
        if not names:
            return []
        now = self.clock()
        async with self.uow() as uow:
            for name in names:
                await uow.handovers.add_note(name, author=actor, text=text, now=now)
            await uow.commit()
        event(log, "handover note left by %s for %s", actor, ", ".join(names), actor=actor)
        return names


def payload_time(payload: Mapping[str, Any], key: str) -> datetime | None:
    """A time a job's payload carries (ISO 8601), or None."""
    value = payload.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


RETRY_BASE = timedelta(minutes=1)  # a digest or a sync Slack refused is tried again after 1, 2, 4… minutes


def retry_at(now: datetime, attempts: int) -> datetime:
    """When a job Slack refused `attempts + 1` times is tried again."""
    factor: int = 2 ** min(attempts, 6)
    return now + RETRY_BASE * factor
