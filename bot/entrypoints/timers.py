"""The timer tick. Every due time lives in a database row (an incident's reminder, a page's next step,
a follow-up's reminder); APScheduler only wakes this tick, which claims due rows under a lease and fires them.

A tick is three steps. Claim: one transaction takes every due row (`UPDATE … RETURNING` over
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer) and loads it, so two replicas
never take the same row. Send: the Slack messages, concurrently, each giving back what to record.
Record: one transaction for everything sent (a timer whose row was overtaken meanwhile, say by an
acknowledgement, is left as it is); results that are slow to come are recorded as they arrive rather
than held back by one slow Slack call. A restart fires whatever came due meanwhile, once: late rather
than never. A tick that dies mid-way leaves its claims to expire (the lease), and a later tick takes
them again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.errors import SlackRefused, slack_error
from bot.domain.timer_results import (
    AckTimedOut,
    FollowUpReminded,
    PageDeferred,
    PageStepped,
    ReminderSent,
    TimerResult,
)
from bot.runtime.background import transient
from bot.runtime.doorbell import Doorbell
from bot.usecases.declare import IncidentService
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.outbox import Outbox
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock
from bot.usecases.reminders import Reminders
from storage.writer_queue import writes_first

if TYPE_CHECKING:  # a type only: the tick claims and records timers through storage's own unit of work
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 200
CONCURRENCY = 48  # page steps and reminders in flight at once: each mostly waits on the database and Slack
TICK_SECONDS = 0.5
RECORD_WITHIN = 1.0  # seconds: what has been sent by then is recorded, whatever is still on its way
SWEEP_EVERY = timedelta(seconds=2)  # unfinished set-ups and the outbox are looked at this often
SETUP_LEASE = timedelta(seconds=20)  # renewed by the set-up while it runs (waiting out Retry-Afters, say)
SWEEP_BATCH = 20
STOP_GRACE = 20.0
OUTAGE_BACKOFF_CAP = 10.0  # seconds between ticks while the database is unreachable
STALLED_AFTER = 30.0  # liveness: no tick started for this long means the clock is stuck
STALLED_WHILE_RUNNING = 300.0  # …or one tick has run this long (a slow Slack may hold one a while)


@dataclass
class Timers:
    """Claims, fires and records due reminders, page steps and follow-up reminders."""

    uow: Callable[[], UnitOfWork]  # the timers' and the set-up sweep's claims are storage's, not a use case's
    reminders: Reminders
    pager: Pager
    clock: Clock
    follow_ups: FollowUpService | None = None
    incidents: IncidentService | None = None  # finishes set-ups a declare left undone
    outbox: Outbox | None = None  # sends posts Slack refused for now
    pages_started: Doorbell | None = None  # rung when a page starts: its first step goes out at once
    lease: timedelta = LEASE
    batch: int = BATCH
    record_within: float = RECORD_WITHIN
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _scheduler: AsyncIOScheduler | None = None
    _kicks: set[asyncio.Task[int]] = field(default_factory=set)
    _flushes: set[asyncio.Task[None]] = field(default_factory=set)  # digest DM edits after a record
    _last_sweep: datetime | None = None
    last_tick: float = 0.0  # monotonic time the last tick started
    _started: float = field(default_factory=time.monotonic)
    _failures: int = 0
    _quiet_until: float = 0.0
    _pages_waiting_for_slack: bool = False

    def __post_init__(self) -> None:
        """Tick whenever a page starts."""
        if self.pages_started is not None:
            self.pages_started.answer_with(self.wake)

    async def tick(self) -> int:
        """Fire everything due now; returns how many timers fired. One tick at a time per process.

        While the database (or Slack) is unreachable a tick logs one line and the next ones back off;
        once it answers again, whatever came due meanwhile fires, once."""
        if time.monotonic() < self._quiet_until:
            return 0
        writes_first()  # page steps are on their way to people: SQLite's writer serves them before bulk work
        async with self._lock:
            self.last_tick = time.monotonic()
            try:
                fired = 0
                while True:
                    batch = await self._tick_once()
                    fired += batch
                    if batch < self.batch:
                        break
                fired += await self._sweep()
            except Exception as exc:
                if not transient(exc):
                    raise
                self._failures += 1
                pause = min(OUTAGE_BACKOFF_CAP, 0.5 * 2**self._failures)
                self._quiet_until = time.monotonic() + pause
                log.warning(
                    "timer tick: the database is unreachable (%s); next try in %.0fs", type(exc).__name__, pause
                )
                return 0
            if self._failures:
                log.info("timer tick: the database answers again; overdue timers fire now")
                self._failures = 0
            return fired

    async def _sweep(self) -> int:
        """Every SWEEP_EVERY: finish set-ups a declare left undone, and send posts waiting in the outbox."""
        now = self.clock()
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_EVERY:
            return 0
        self._last_sweep = now
        token = str(uuid.uuid4())
        done = 0
        if self.incidents is not None:
            async with self.uow() as uow:
                unfinished = await uow.setups.claim(now=now, lease=SETUP_LEASE, token=token, limit=SWEEP_BATCH)
                await uow.commit()
            for outcome in await asyncio.gather(
                *(self.incidents.finish_setup(i, token=token) for i in unfinished), return_exceptions=True
            ):
                if isinstance(outcome, Exception):  # its lease runs out and a later sweep tries again
                    log.warning("an unfinished set-up could not be finished: %s", slack_error(outcome))
            done += len(unfinished)
        if self.outbox is not None:
            done += await self.outbox.send_due(token=token)
        return done

    async def _tick_once(self) -> int:
        now = self.clock()
        token = str(uuid.uuid4())
        async with self.uow() as uow:
            claimed = await uow.timers.claim(
                now=now, lease=self.lease, token=token, limit=self.batch, follow_ups=self.follow_ups is not None
            )
            await uow.commit()
        if not claimed:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def send(what: str, sending: Awaitable[TimerResult]) -> TimerResult | None:
            async with limit:
                try:
                    return await sending
                except SlackRefused as exc:  # Slack refused: the lease expires and a later tick retries
                    log.warning("%s did not fire (%s); it will be retried", what, slack_error(exc))
                except Exception:  # one failure must not stop the tick; the lease retries it later
                    log.exception("%s did not fire; it will be retried", what)
                return None

        sends = [send(f"reminder {i}", self.reminders.send(x, now=now)) for i, x in claimed.reminders.items()]
        sends += [send(f"page {i}", self.pager.send_step(*x, now=now)) for i, x in claimed.pages.items()]
        if self.follow_ups is not None:
            reminding = self.follow_ups.send_reminder
            sends += [send(f"follow-up {i}", reminding(x, now=now)) for i, x in claimed.follow_ups.items()]
        pending = {asyncio.ensure_future(s) for s in sends}
        try:
            while pending:
                done, pending = await asyncio.wait(pending, timeout=self.record_within)
                await self._record([r for r in (t.result() for t in done) if r is not None], token=token)
        except asyncio.CancelledError:
            # Stopping past the grace period: what has not been recorded is given back, so the next
            # process fires it at once rather than after the lease (recorded timers hold no claim).
            for task in pending:
                task.cancel()
            await asyncio.shield(self._release(token))
            raise
        return len(claimed)

    async def _release(self, token: str) -> None:
        try:
            async with self.uow() as uow:
                await uow.timers.release_claims(token)
                await uow.commit()
        except Exception as exc:  # the lease runs out instead
            log.warning("could not give back a stopping tick's claims: %s", type(exc).__name__)

    async def _record(self, results: Sequence[TimerResult], *, token: str) -> None:
        """One transaction for all `results`; should it fail, one each, so one bad row spoils only itself."""
        if not results:
            return
        try:
            async with self.uow() as uow:
                taken = await uow.timers.record(results, token=token)
                await uow.commit()
        except Exception:
            if len(results) == 1:  # not recorded: its claim expires and a later tick fires it again
                log.exception("a fired timer could not be recorded; it will be retried")
                return
            log.warning("recording %d fired timers together failed; recording each alone", len(results))
            for result in results:
                await self._record([result], token=token)
            return
        for result, took in zip(results, taken, strict=True):
            try:
                await self._recorded(result, taken=took)
            except Exception:  # its record stands; only a follow-up message was lost
                log.exception("after recording %s", type(result).__name__)
        # Pages that joined a digest DM this time are shown in it, one edit each: alongside, so the tick goes
        # on recording (and claiming) while an edit waits out the digest's interval.
        flushing = asyncio.get_running_loop().create_task(self.pager.dms.flush())
        self._flushes.add(flushing)
        flushing.add_done_callback(self._flushes.discard)

    async def _recorded(self, result: TimerResult, *, taken: bool) -> None:
        if isinstance(result, PageDeferred):
            if not self._pages_waiting_for_slack:  # one line for an outage, not one per page and try
                log.warning("pages wait for Slack (%s); their steps are tried again every few seconds", result.reason)
            self._pages_waiting_for_slack = True
            return
        if isinstance(result, PageStepped) and self._pages_waiting_for_slack:
            log.info("Slack answers page DMs again; the pages that waited are being sent")
            self._pages_waiting_for_slack = False
        if isinstance(result, ReminderSent):
            self.reminders.recorded(result)
        elif isinstance(result, PageStepped):
            await self.pager.recorded(result, taken=taken)
        elif isinstance(result, AckTimedOut):
            await self.pager.reopened(result, taken=taken)
        elif isinstance(result, FollowUpReminded) and self.follow_ups is not None:
            self.follow_ups.recorded(result)

    def wake(self) -> None:
        """Tick as soon as possible (a page just started)."""
        # A context of its own: a tick woken by a person's command is not that person's work (their pool).
        task = asyncio.get_running_loop().create_task(self.tick(), context=contextvars.Context())
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)

    async def idle(self) -> None:
        """Wait for ticks in progress (and ones just woken) to finish."""
        while self._kicks or self._flushes:
            await asyncio.gather(*list(self._kicks), *list(self._flushes), return_exceptions=True)
        async with self._lock:
            pass
        await asyncio.gather(*list(self._flushes), return_exceptions=True)

    def start(self, every: float = TICK_SECONDS) -> None:
        """Start the clock: a tick now (overdue work from before a restart) and every `every` seconds."""
        self._scheduler = AsyncIOScheduler()
        self._scheduler.add_job(
            self._scheduled, "interval", seconds=every, max_instances=3, coalesce=True, misfire_grace_time=None
        )
        self._scheduler.start()
        self._started = time.monotonic()
        self.wake()

    async def _scheduled(self) -> None:
        # The tick runs as a task of ours: stopping the scheduler must not cancel a tick between sending
        # and recording (that would page twice after a restart); stop() waits for it. While one runs (a
        # slow Slack), the clock's beats pass quietly instead of queueing.
        if self._lock.locked():
            return
        self.wake()

    @property
    def stalled(self) -> bool:
        """Whether the clock is running but no tick has started for a while (liveness)."""
        if self._scheduler is None:
            return False
        limit = STALLED_WHILE_RUNNING if self._lock.locked() else STALLED_AFTER
        return time.monotonic() - max(self.last_tick, self._started) > limit

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the clock; a tick in progress finishes (its sends recorded) within `grace` seconds, or
        is cancelled and gives its unfired claims back."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            log.warning("a timer tick outlasted the %.0fs stop grace; its unfired timers are given back", grace)
            for task in list(self._kicks):
                task.cancel()
            await asyncio.gather(*list(self._kicks), return_exceptions=True)
