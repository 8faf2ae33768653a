"""Work accepted from Slack and done after the ack, by bounded pools of workers in two lanes.

Listeners acknowledge and hand their work here, so the ack path stays a straight line (Bolt runs with
process_before_response and returns the ack the moment the listener returns). A bounded pool keeps a
burst of requests from flooding the event loop ahead of the acks still waiting, and gives shutdown one
place to wait for everything Slack was told we accepted.

People first: work a person is waiting for (a command, a click, a form, a shortcut) has the `people`
lane and its own workers; everything else (alert intake, Events API events, refreshes) the `bulk` lane.
A storm that fills the bulk lane never delays a person. Within the people lane, a quick reply (a list, an
update, a click) goes ahead of a declare's channel set-up, so a storm of two hundred declares never holds
one person's `/incident list` behind every channel still to be made. And a job that waits for Slack's pace gives its
worker back while it waits (bot.runtime.worker_slot), so hundreds of posts queued for one channel hold
no worker at all.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from prometheus_client import Gauge
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.runtime import worker_slot
from bot.runtime.cancelling import raise_if_cancelling
from bot.runtime.metrics import Metrics
from bot.runtime.startup import delays

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]  # what it returns is not used
OnError = Callable[[BaseException, dict[str, Any]], Awaitable[None]]
FirstDelivery = Callable[[str], Awaitable[bool]]
Lane = Literal["people", "bulk"]
PEOPLE: Lane = "people"  # a person is waiting: commands, clicks, forms, message shortcuts
BULK: Lane = "bulk"  # nobody is waiting: alert intake, Events API events, refreshes
LANES: tuple[Lane, ...] = (PEOPLE, BULK)
DEFAULT_WORKERS = 8  # per lane
RETRY_WINDOW = 60.0  # seconds a request waits for the database (or Slack) to come back
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 5.0


class StillUnreachable(Exception):
    """A request given up after the database (or Slack) stayed unreachable for the whole retry window."""

    def __init__(self, cause: Exception) -> None:
        """Keep what kept failing."""
        self.what = _what(cause)
        super().__init__(f"{self.what} unreachable: {type(cause).__name__}")
        self.cause = cause


def transient(exc: BaseException) -> bool:
    """Whether a failure is the database or Slack being unreachable for now (worth a retry)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, OSError | TimeoutError | aiohttp.ClientConnectionError)


def _what(exc: BaseException) -> str:
    return "the database" if isinstance(exc, DBAPIError) or not isinstance(exc, aiohttp.ClientError) else "Slack"


QUICK, LONG = 0, 1  # a job's rank in its lane: quick ones first, in the order they came


@dataclass
class _Queue:
    """One lane: its queue of jobs (by rank, then by arrival) and the workers that take them."""

    name: Lane
    jobs: asyncio.PriorityQueue[tuple[int, int, Job, dict[str, Any], bool, bool]] = field(
        default_factory=asyncio.PriorityQueue
    )
    workers: list[asyncio.Task[None]] = field(default_factory=list)


class Background:
    """Queues of post-ack jobs, one per lane, and the workers that run them."""

    def __init__(
        self,
        metrics: Metrics,
        on_error: OnError,
        *,
        count_commits: Callable[[], list[int]],
        workers: int = DEFAULT_WORKERS,
        first_delivery: FirstDelivery | None = None,
        hurry: Callable[[], None] | None = None,
    ) -> None:
        """Jobs that fail are passed to `on_error` with the request body they came from.

        `count_commits()` starts counting the commits of the work in this context (storage.uow's counter):
        only work that committed nothing is tried again after a transient failure.

        `first_delivery(key)` records a request's delivery key (its trigger_id) and says whether it is
        new: a request replayed with the same signature, or delivered twice, runs once.

        `workers` is per lane.

        `hurry()`, called in a quick people-lane job's own context before it runs, lets its database
        writes go ahead of bulk ones (SQLite's writer queue: storage.writer_queue.writes_first).
        """
        self._first_delivery = first_delivery
        self._hurry = hurry
        self._count_commits = count_commits
        self.retry_window = RETRY_WINDOW
        self._lanes = {lane: _Queue(lane) for lane in LANES}
        self._arrivals = itertools.count()
        self._metrics = metrics
        self._on_error = on_error
        self._size = workers
        self._jobs: set[asyncio.Task[None]] = set()  # pooled jobs running, with a worker or without
        self._urgent: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """Start every lane's workers (inside the running loop)."""
        for lane in self._lanes.values():
            lane.workers = [
                asyncio.create_task(self._work(lane), name=f"tocsin-{lane.name}-worker-{n}") for n in range(self._size)
            ]

    def submit(
        self,
        body: dict[str, Any],
        job: Job,
        *,
        lane: Lane = BULK,
        long: bool = False,
        urgent: bool = False,
        retry: bool = True,
    ) -> None:
        """Accept a job from the request `body`; never blocks the ack.

        `lane=PEOPLE` for work a person is waiting for (it never queues behind bulk work); the default is
        the bulk lane. `long` work (a declare, which makes a channel) waits behind every quick job queued
        in its lane, whenever they came. `urgent` jobs start at once instead of queueing: opening a modal
        must use its trigger_id within 3 seconds, whatever else is waiting. `retry=False`: a job whose
        Slack calls come before its database writes is not tried again when the database fails (that
        would post twice). A quick people-lane job runs hurried (see `hurry`).
        """
        hurried = lane == PEOPLE and not long  # a person waits on it, and it is short
        self._pending += 1
        self._idle.clear()
        self._metrics.work_in_flight.inc()
        if urgent:
            task = asyncio.create_task(self._run(job, body, retry=retry, hurried=hurried))
            self._urgent.add(task)
            task.add_done_callback(self._urgent.discard)
        else:
            self._metrics.work_queued.labels(lane).inc()
            rank = LONG if long else QUICK
            self._lanes[lane].jobs.put_nowait((rank, next(self._arrivals), job, body, retry, hurried))

    @property
    def pending(self) -> int:
        """Jobs accepted and not finished."""
        return self._pending

    async def wait_idle(self, within: float) -> bool:
        """Wait until every accepted job has finished; False if `within` seconds ran out first."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def drain(self, within: float) -> bool:
        """Finish every accepted job, then stop the workers (and any pooled job still running when
        `within` seconds ran out: False then)."""
        finished = await self.wait_idle(within)
        stopping = [worker for lane in self._lanes.values() for worker in lane.workers] + list(self._jobs)
        for task in stopping:
            task.cancel()
        await asyncio.gather(*stopping, return_exceptions=True)
        for lane in self._lanes.values():
            lane.workers = []
        return finished

    async def _work(self, lane: _Queue) -> None:
        """Take the lane's jobs one at a time: each runs as a task of its own, and the worker moves on
        when it finishes or gives the worker back to wait for Slack."""
        while True:
            _, _, job, body, retry, hurried = await lane.jobs.get()
            self._metrics.work_queued.labels(lane.name).dec()
            slot = asyncio.Event()
            task = asyncio.create_task(self._run(job, body, retry=retry, slot=slot, hurried=hurried))
            self._jobs.add(task)
            task.add_done_callback(self._jobs.discard)
            await slot.wait()
            if not task.done():  # it waits for Slack's pace without a worker
                waiting = self._metrics.work_waiting_for_slack.labels(lane.name)
                waiting.inc()
                task.add_done_callback(functools.partial(_count_down, waiting))

    async def _run(
        self,
        job: Job,
        body: dict[str, Any],
        *,
        retry: bool = True,
        slot: asyncio.Event | None = None,
        hurried: bool = False,
    ) -> None:
        worker_slot.hold(slot)  # this task's own context: what it starts inherits it, urgent jobs hold none
        if hurried and self._hurry is not None:
            self._hurry()
        try:
            key = delivery_key(body)
            if key is not None and self._first_delivery is not None:
                first = await self._retrying(lambda: self._first_delivery(key))  # type: ignore[misc]
                if not first:
                    log.info("ignored a repeated delivery of request %s", key)
                    return
            await (self._retrying(job) if retry else job())
        except Exception as exc:  # the boundary: every failure is logged and answered
            await self._report(exc, body)
        finally:
            self._metrics.work_in_flight.dec()
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()
            if slot is not None:  # last, with no await after it: the worker sees this task done
                slot.set()

    async def _retrying(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """Run `attempt`; while it fails for a passing reason (the database or Slack unreachable) before
        committing anything, try again with backoff, for up to RETRY_WINDOW seconds. Slack does not
        deliver an acknowledged request again, so this is its only second chance."""
        waited = 0.0
        waits = delays(first=FIRST_RETRY_DELAY, cap=MAX_RETRY_DELAY)
        while True:
            commits = self._count_commits()
            try:
                return await attempt()
            except Exception as exc:
                raise_if_cancelling(exc)
                if commits[0] or not transient(exc):
                    raise
                if waited >= self.retry_window:
                    raise StillUnreachable(exc) from exc
                delay = next(waits)
                log.warning("%s unreachable (%s); trying again in %.1fs", _what(exc), type(exc).__name__, delay)
            await asyncio.sleep(delay)
            waited += delay

    async def _report(self, error: BaseException, body: dict[str, Any]) -> None:
        try:
            await self._on_error(error, body)
        except Exception:  # telling the user failed too; the log is all that is left
            log.exception("could not report an error to the user")


def _count_down(gauge: Gauge, _: object) -> None:
    gauge.dec()


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one user action across deliveries: its trigger_id (commands, clicks, forms)."""
    trigger = body.get("trigger_id")
    return f"trigger:{trigger}"[:64] if isinstance(trigger, str) and trigger else None
