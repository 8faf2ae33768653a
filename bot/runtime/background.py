"""Work accepted from Slack and done after the ack, by a bounded pool of workers.

Listeners acknowledge and hand their work here, so the ack path stays a straight line (Bolt runs with
process_before_response and returns the ack the moment the listener returns). A bounded pool keeps a
burst of requests from flooding the event loop ahead of the acks still waiting, and gives shutdown one
place to wait for everything Slack was told we accepted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.runtime.metrics import Metrics
from bot.runtime.startup import delays

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]  # what it returns is not used
OnError = Callable[[BaseException, dict[str, Any]], Awaitable[None]]
FirstDelivery = Callable[[str], Awaitable[bool]]
DEFAULT_WORKERS = 16
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


class Background:
    """A queue of post-ack jobs and the workers that run them."""

    def __init__(
        self,
        metrics: Metrics,
        on_error: OnError,
        *,
        count_commits: Callable[[], list[int]],
        workers: int = DEFAULT_WORKERS,
        first_delivery: FirstDelivery | None = None,
    ) -> None:
        """Jobs that fail are passed to `on_error` with the request body they came from.

        `count_commits()` starts counting the commits of the work in this context (storage.uow's counter):
        only work that committed nothing is tried again after a transient failure.

        `first_delivery(key)` records a request's delivery key (its trigger_id) and says whether it is
        new: a request replayed with the same signature, or delivered twice, runs once.
        """
        self._first_delivery = first_delivery
        self._count_commits = count_commits
        self.retry_window = RETRY_WINDOW
        self._queue: asyncio.Queue[tuple[Job, dict[str, Any], bool]] = asyncio.Queue()
        self._metrics = metrics
        self._on_error = on_error
        self._size = workers
        self._workers: list[asyncio.Task[None]] = []
        self._urgent: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """Start the workers (inside the running loop)."""
        self._workers = [asyncio.create_task(self._work(), name=f"tocsin-worker-{n}") for n in range(self._size)]

    def submit(self, body: dict[str, Any], job: Job, *, urgent: bool = False, retry: bool = True) -> None:
        """Accept a job from the request `body`; never blocks the ack.

        `urgent` jobs start at once instead of queueing: opening a modal must use its trigger_id
        within 3 seconds, whatever else is waiting. `retry=False`: a job whose Slack calls come before
        its database writes is not tried again when the database fails (that would post twice).
        """
        self._pending += 1
        self._idle.clear()
        self._metrics.work_in_flight.inc()
        if urgent:
            task = asyncio.create_task(self._run(job, body, retry=retry))
            self._urgent.add(task)
            task.add_done_callback(self._urgent.discard)
        else:
            self._queue.put_nowait((job, body, retry))

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
        """Finish every accepted job, then stop the workers; False if `within` seconds ran out first."""
        finished = await self.wait_idle(within)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        return finished

    async def _work(self) -> None:
        while True:
            job, body, retry = await self._queue.get()
            await self._run(job, body, retry=retry)

    async def _run(self, job: Job, body: dict[str, Any], *, retry: bool = True) -> None:
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


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one user action across deliveries: its trigger_id (commands, clicks, forms)."""
    trigger = body.get("trigger_id")
    return f"trigger:{trigger}"[:64] if isinstance(trigger, str) and trigger else None
