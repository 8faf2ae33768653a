"""Heartbeats: a beat records when it was heard and moves its deadline on; a deadline that passes without
one raises the heartbeat's alert through the alert routing (a page, or a declare above a severity), and
the next beat resolves it, standing the page down.

Each heartbeat has one pending deadline job, `heartbeat.deadline:<name>:<generation>`, moved on by every
beat; a miss uses it up (the generation moves on, and the next beat plans the next one). The job is claimed
by one replica; the miss is recorded by a conditional update (so at most once even if it fired twice), and
the alert group deduplicates on top of that."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import NotFoundError
from bot.domain.events import Subject, new_event
from bot.domain.events_beyond import HeartbeatMissed, HeartbeatRecovered
from bot.domain.heartbeats import HeartbeatState, deadline, missed_alert, recovered_alert
from bot.domain.jobs import Job, JobAgain, JobDone, JobOutcome, job_key
from bot.domain.policy import Policy
from bot.domain.watch_policy import Heartbeat
from bot.runtime.logs import event
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory
from bot.usecases.watch_ports import Alerting

log = logging.getLogger(__name__)

DEADLINE = "heartbeat.deadline"


class UnknownHeartbeat(NotFoundError):
    """A beat for a heartbeat the policy does not name."""


@dataclass(frozen=True, slots=True)
class Beat:
    """What a beat did: when the next one is due by, and whether it ended a miss."""

    name: str
    due_by: datetime
    recovered: bool


def deadline_key(name: str, generation: int) -> str:
    """The key of a heartbeat's deadline job in its `generation`."""
    return job_key(DEADLINE, name, generation)


def subject(name: str) -> Subject:
    """What a heartbeat's events are about."""
    return Subject(topic=f"heartbeat:{name}")


@dataclass
class HeartbeatWatch:
    """Beats in, deadlines out."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    alerts: Alerting

    async def beat(self, name: str) -> Beat:
        """Record a beat of `name` (UnknownHeartbeat if the policy has none of that name)."""
        beat = self._configured(name)
        now = self.clock()
        async with self.uow() as uow:
            state = await uow.watch.know_heartbeat(name, now=now)
            await uow.watch.beat(name, at=now)
            due = now + beat.every + beat.grace
            await _plan(uow, name, state.generation, due)
            if state.missed:
                recovered = HeartbeatRecovered(name=name, service=beat.service)
                await uow.events.append(new_event(recovered, subject=subject(name), actor=None, at=now))
            await uow.commit()
        if state.missed:
            await self.alerts.receive(recovered_alert(name, beat))
            event(log, "heartbeat %s beat again after it was missed; its alert is resolved", name, source="heartbeat")
        return Beat(name, due, state.missed)

    async def plan(self) -> None:
        """Plan every configured heartbeat's deadline (at start: idempotent across replicas and restarts; a
        heartbeat never heard from is due its period and grace after Tocsin first saw it configured)."""
        if not self.policy.heartbeats:
            return
        now = self.clock()
        async with self.uow() as uow:
            for name, beat in self.policy.heartbeats.items():
                state = await uow.watch.know_heartbeat(name, now=now)
                if not state.missed:
                    await _plan(uow, name, state.generation, deadline(beat, state))
            await uow.commit()

    async def deadline_passed(self, job: Job) -> JobOutcome:
        """A heartbeat's deadline job fired: raise its alert if it was indeed missed."""
        name, generation = str(job.payload["name"]), int(job.payload["generation"])
        beat = self.policy.heartbeats.get(name)
        if beat is None:
            return JobDone("no longer configured")
        now = self.clock()
        async with self.uow() as uow:
            state = await uow.watch.know_heartbeat(name, now=now)
            due = deadline(beat, state)
            retrying = state.missed and state.generation == generation + 1  # a try before raised nothing
            if not retrying:
                if state.generation != generation or state.missed:
                    return JobDone("superseded")
                if due > now:
                    return JobAgain(due, {"name": name, "generation": generation})  # a beat moved it on
                silent_since = now - beat.every - beat.grace
                if not await uow.watch.mark_missed(name, generation=generation, at=now, silent_since=silent_since):
                    return JobDone("superseded")
                missed = HeartbeatMissed(name=name, service=beat.service, last_seen_at=state.last_seen_at)
                await uow.events.append(new_event(missed, subject=subject(name), actor=None, at=now))
                await uow.commit()
        await self._raise(name, beat, state, now=now)
        return JobDone("missed")

    async def _raise(self, name: str, beat: Heartbeat, state: HeartbeatState, *, now: datetime) -> None:
        summary = await self.alerts.receive(missed_alert(name, beat, state, now=now))
        log.warning("heartbeat %s missed (due by %s); alert raised: %s", name, deadline(beat, state), summary)
        async with self.uow(read_only=True) as uow:
            after = await uow.watch.heartbeat(name)
        if after is not None and not after.missed:  # it beat while the alert was on its way: resolve it too
            await self.alerts.receive(recovered_alert(name, beat))

    def _configured(self, name: str) -> Heartbeat:
        beat = self.policy.heartbeats.get(name)
        if beat is None:
            raise UnknownHeartbeat(f"there is no heartbeat called {name[:100]!r} in the policy")
        return beat


async def missed_heartbeats(uow: UnitOfWorkFactory, policy: Policy) -> list[HeartbeatState]:
    """The configured heartbeats missed now."""
    async with uow(read_only=True) as work:
        states = await work.watch.heartbeats()
    return [s for s in states if s.missed and s.name in policy.heartbeats]


async def _plan(uow: UnitOfWork, name: str, generation: int, due: datetime) -> None:
    """Move the heartbeat's pending deadline job to `due`, or plan it; a job of that generation that is
    finished already (the heartbeat was dropped from the policy and came back) moves on a generation."""
    key = deadline_key(name, generation)
    payload = {"name": name, "generation": generation}
    if await uow.jobs.reschedule(key, due_at=due, payload=payload):
        return
    if await uow.jobs.schedule(DEADLINE, key, due_at=due, payload=payload):
        return
    if await uow.watch.next_generation(name, generation=generation):
        payload = {"name": name, "generation": generation + 1}
        await uow.jobs.schedule(DEADLINE, deadline_key(name, generation + 1), due_at=due, payload=payload)
