"""The scheduled jobs' clock (bot/domain/jobs.py): claims due jobs under a lease, fires each through its
kind's handler and records the outcome, so a job fires once across replicas, late rather than never
after a restart or an outage, and a handler that raised is tried again later (its failure one line).

Like the page timers (timers.py), a claim outlives a runner that dies mid-job: the lease runs out and
another runner takes the job again. A handler therefore either finishes its effect before returning or
makes it idempotent (a key, a conditional update).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.jobs import Job, JobAgain, JobDone, JobOutcome, JobRetry
from bot.runtime.background import transient
from bot.runtime.doorbell import Doorbell
from bot.runtime.metrics import Metrics
from bot.usecases.job_ports import JobHandler
from bot.usecases.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
BATCH = 50
CONCURRENCY = 16
TICK_SECONDS = 1.0
RETRY_AFTER_ERROR = timedelta(seconds=30)  # a handler that raised is tried again this much later…
RETRY_CAP = timedelta(minutes=10)  # …doubling each time, up to this
STOP_GRACE = 15.0


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failure a job is tried again."""
    factor: int = 2 ** min(attempts, 10)
    return min(RETRY_CAP, RETRY_AFTER_ERROR * factor)


@dataclass
class JobRunner:
    """Fires due jobs of the kinds it has handlers for."""

    uow: UnitOfWorkFactory
    handlers: Mapping[str, JobHandler]
    clock: Clock
    metrics: Metrics
    planned: Doorbell | None = None  # rung when a job is planned due now: it fires at once
    lease: timedelta = LEASE
    batch: int = BATCH
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _scheduler: AsyncIOScheduler | None = None
    _kicks: set[asyncio.Task[int]] = field(default_factory=set)
    _quiet_until: float = 0.0
    _failures: int = 0

    def __post_init__(self) -> None:
        """Tick whenever a job due now is planned."""
        if self.planned is not None:
            self.planned.answer_with(self.wake)

    async def tick(self) -> int:
        """Fire every job due now; how many fired. One tick at a time per process."""
        if not self.handlers or time.monotonic() < self._quiet_until:
            return 0
        async with self._lock:
            fired = 0
            try:
                while True:
                    claimed = await self._tick_once()
                    fired += claimed
                    if claimed < self.batch:
                        break
            except Exception as exc:
                if not transient(exc):
                    raise
                self._failures += 1
                pause = min(10.0, 0.5 * 2**self._failures)
                self._quiet_until = time.monotonic() + pause
                log.warning("jobs: the database is unreachable (%s); next try in %.0fs", type(exc).__name__, pause)
                return fired
            self._failures = 0
            return fired

    async def _tick_once(self) -> int:
        token = str(uuid.uuid4())
        now = self.clock()
        async with self.uow() as uow:
            jobs = await uow.jobs.claim(
                kinds=list(self.handlers), now=now, lease=self.lease, token=token, limit=self.batch
            )
            await uow.commit()
        if not jobs:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def fire(job: Job) -> None:
            async with limit:
                outcome = await self._fire(job)
            async with self.uow() as uow:
                recorded = await uow.jobs.finish(job, outcome, token=token, now=self.clock())
                await uow.commit()
            if not recorded:
                log.warning("job %s (%s): its claim ran out before it finished; recorded by another", job.key, job.kind)

        await asyncio.gather(*(fire(job) for job in jobs))
        return len(jobs)

    async def _fire(self, job: Job) -> JobOutcome:
        try:
            outcome = await self.handlers[job.kind](job)
        except Exception as exc:
            at = self.clock() + retry_delay(job.attempts)
            if transient(exc):
                log.warning("job %s (%s) failed (%s); tried again at %s", job.key, job.kind, type(exc).__name__, at)
            else:
                log.exception("job %s (%s) failed; tried again at %s", job.key, job.kind, at)
            self.metrics.jobs_fired.labels(job.kind, "failed").inc()
            return JobRetry(at, f"{type(exc).__name__}: {exc}"[:200])
        label = {JobDone: "done", JobRetry: "retry", JobAgain: "again"}[type(outcome)]
        self.metrics.jobs_fired.labels(job.kind, label).inc()
        return outcome

    def wake(self) -> None:
        """Tick as soon as possible (a job was just planned, due now)."""
        task = asyncio.get_running_loop().create_task(self.tick(), context=contextvars.Context())
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)

    async def idle(self) -> None:
        """Wait for ticks in progress (and ones just woken) to finish."""
        while self._kicks:
            await asyncio.gather(*list(self._kicks), return_exceptions=True)
        async with self._lock:
            pass

    def start(self, every: float = TICK_SECONDS) -> None:
        """Start the clock: a tick now (jobs that came due while stopped) and every `every` seconds."""
        self._scheduler = AsyncIOScheduler()
        self._scheduler.add_job(
            self._scheduled, "interval", seconds=every, max_instances=2, coalesce=True, misfire_grace_time=None
        )
        self._scheduler.start()
        self.wake()

    async def _scheduled(self) -> None:
        if not self._lock.locked():
            self.wake()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the clock; a tick in progress finishes within `grace`, or is cancelled (its claims run out
        and another runner takes them)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            log.warning("a job tick outlasted the %.0fs stop grace; its jobs are taken again later", grace)
            for task in list(self._kicks):
                task.cancel()
            await asyncio.gather(*list(self._kicks), return_exceptions=True)
