"""Handing the event log to its durable subscribers.

Each subscriber has a loop of its own: it claims its due deliveries (each the oldest still waiting in its
incident's stream), hands them to the subscriber, and records each outcome: handled (done), or failed
(tried again after a backoff that doubles up to MAX_RETRY, the rest of that stream waiting behind it).
A slow or failing subscriber holds only its own loop. The loops wake at once when a change commits
events in this process (`wake`) and look every POLL_SECONDS otherwise, so events appended by another
replica, or left by one that stopped, are handled too. Claims are leased: a replica that dies mid-way
leaves its deliveries to whichever replica looks next after the lease.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.events import DomainEvent
from bot.runtime.background import transient
from bot.runtime.cancelling import raise_if_cancelling
from bot.runtime.doorbell import Doorbell
from bot.runtime.metrics import Metrics
from bot.usecases.event_log import Subscriber
from bot.usecases.ports import Clock

if TYPE_CHECKING:  # a type only: claiming deliveries is storage's own business, not a use case's
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# Deliveries one claim takes (one per stream). A subscriber whose handling may take long (an outgoing
# webhook's 10 s timeout) declares a smaller `batch`, so a claim's work ends within its lease.
BATCH = 50
CONCURRENCY = 8  # of them handled at once
POLL_SECONDS = 0.5
FIRST_RETRY = timedelta(seconds=1)
MAX_RETRY = timedelta(minutes=10)
LAG_EVERY = 5.0  # seconds between backlog readings of an idle subscriber


@dataclass
class _Failing:
    """A subscriber's failures since it last handled an event (logged once, not per event)."""

    since: datetime | None = None


@dataclass
class EventDispatch:
    """The subscribers' loops."""

    uow: Callable[..., UnitOfWork]
    subscribers: Sequence[Subscriber]
    clock: Clock
    metrics: Metrics
    doorbell: Doorbell = field(default_factory=Doorbell)  # rung by every commit that appended events
    lease: timedelta = LEASE
    first_retry: timedelta = FIRST_RETRY
    max_retry: timedelta = MAX_RETRY
    _loops: list[asyncio.Task[None]] = field(default_factory=list)
    _failing: dict[str, _Failing] = field(default_factory=dict)
    _lag_read: dict[str, float] = field(default_factory=dict)
    _delivering: int = 0  # deliver() passes in progress

    def __post_init__(self) -> None:
        """One failure record per subscriber; names must be unique."""
        names = [s.name for s in self.subscribers]
        if len(set(names)) != len(names):
            raise ValueError(f"subscriber names repeat: {sorted(names)}")
        self._failing = {name: _Failing() for name in names}

    async def register(self) -> None:
        """Register this process's subscribers (before anything can append events), and retire the ones
        no longer subscribed (their backlog is dropped, with one line each)."""
        now = self.clock()
        ours = {s.name: (sorted(k.value for k in s.kinds) if s.kinds is not None else None) for s in self.subscribers}
        async with self.uow() as uow:
            await uow.events.register(ours, now=now)
            for name in sorted(set(await uow.events.registered()) - set(ours)):
                dropped = await uow.events.retire(name)
                log.info(
                    "event subscriber %s retired (no longer configured); %d undelivered events dropped", name, dropped
                )
            await uow.commit()

    def wake(self) -> None:
        """Events were committed: every subscriber looks now."""
        self.doorbell.ring()

    def start(self, every: float = POLL_SECONDS) -> None:
        """Start every subscriber's loop (inside the running loop)."""
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._run(s, every), name=f"tocsin-events-{s.name}", context=contextvars.Context())
            for s in self.subscribers
        ]

    async def stop(self) -> None:
        """Stop the loops; a delivery being handled is given up and, its lease running out, handed over again."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []

    async def _run(self, subscriber: Subscriber, every: float) -> None:
        quiet = 0.0
        while True:
            rung = self.doorbell.armed()
            try:
                await self.deliver(subscriber)
                quiet = 0.0
            except Exception as exc:
                raise_if_cancelling(exc)  # stopping: a driver's error standing for the cancel ends the loop
                if not transient(exc):
                    log.exception("event subscriber %s: its loop failed; it tries again shortly", subscriber.name)
                quiet = min(10.0, max(every, quiet * 2))  # the database is away: look less often
            await self.doorbell.wait(rung, every + quiet)

    async def idle(self, within: float) -> bool:
        """Wait until no subscriber has a delivery due now or being handled (or the database cannot say:
        then nothing can be handed over anyway); False if `within` seconds ran out first (tests settle on it)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            if not self._delivering:
                now = self.clock()
                try:
                    async with self.uow(read_only=True) as uow:
                        due = [await uow.events.has_due(s.name, now=now) for s in self.subscribers]
                except Exception as exc:  # the database is away: nothing can be handed over until it is back
                    if transient(exc):
                        return True
                    raise
                if not any(due) and not self._delivering:
                    return True
            if asyncio.get_running_loop().time() > deadline:
                return False
            self.doorbell.ring()  # look now rather than at the next poll
            await asyncio.sleep(0.01)

    async def deliver(self, subscriber: Subscriber) -> int:
        """Hand the subscriber everything due now; how many deliveries it handled (or failed)."""
        self._delivering += 1
        try:
            return await self._deliver(subscriber)
        finally:
            self._delivering -= 1

    async def _deliver(self, subscriber: Subscriber) -> int:
        handled = 0
        batch = batch_of(subscriber)
        while True:
            now = self.clock()
            async with self.uow(read_only=True) as uow:
                due = await uow.events.has_due(subscriber.name, now=now)
            if not due:
                break
            token = str(uuid.uuid4())
            async with self.uow() as uow:
                claimed = await uow.events.claim(subscriber.name, now=now, lease=self.lease, token=token, limit=batch)
                await uow.commit()
            if not claimed:
                break
            outcomes = await _handle_all(subscriber, [d.event for d in claimed])
            failed_at = self.clock()
            async with self.uow() as uow:
                for delivery, failure in zip(claimed, outcomes, strict=True):
                    if failure is None:
                        await uow.events.delivered(delivery.id, token=token)
                    else:
                        due_again = failed_at + self._backoff(delivery.attempts)
                        await uow.events.again_later(delivery.id, token=token, due=due_again, error=_describe(failure))
                await uow.commit()
            self._count(subscriber, [(d.event.id, o) for d, o in zip(claimed, outcomes, strict=True)])
            handled += len(claimed)
            if len(claimed) < batch:
                break
        await self._read_lag(subscriber, changed=handled > 0)
        return handled

    def _backoff(self, attempts: int) -> timedelta:
        later: timedelta = self.first_retry * 2 ** min(attempts, 30)
        return min(self.max_retry, later)

    def _count(self, subscriber: Subscriber, outcomes: list[tuple[str, BaseException | None]]) -> None:
        failing = self._failing[subscriber.name]
        failures = [(event_id, exc) for event_id, exc in outcomes if exc is not None]
        self.metrics.events_delivered.labels(subscriber.name).inc(len(outcomes) - len(failures))
        if failures:
            self.metrics.subscriber_failures.labels(subscriber.name).inc(len(failures))
            if failing.since is None:
                failing.since = self.clock()
                event_id, exc = failures[0]
                log.warning(
                    "event subscriber %s failed on %s (%s); its events are tried again with backoff",
                    subscriber.name,
                    event_id,
                    _describe(exc),
                )
        elif failing.since is not None:
            log.info("event subscriber %s handles events again (failing since %s)", subscriber.name, failing.since)
            failing.since = None

    async def _read_lag(self, subscriber: Subscriber, *, changed: bool) -> None:
        """`tocsin_subscriber_lag_seconds`: how old its oldest undelivered event is (0 with none)."""
        loop = asyncio.get_running_loop()
        if not changed and loop.time() - self._lag_read.get(subscriber.name, -LAG_EVERY) < LAG_EVERY:
            return
        self._lag_read[subscriber.name] = loop.time()
        async with self.uow(read_only=True) as uow:
            backlog = await uow.events.backlog(subscriber.name)
        lag = 0.0 if backlog.oldest is None else max(0.0, (self.clock() - backlog.oldest).total_seconds())
        self.metrics.subscriber_lag.labels(subscriber.name).set(lag)
        self.metrics.subscriber_backlog.labels(subscriber.name).set(backlog.waiting)


def batch_of(subscriber: Subscriber) -> int:
    """How many deliveries one claim takes for the subscriber: its own `batch`, if it declares one."""
    declared = getattr(subscriber, "batch", None)
    return declared if isinstance(declared, int) and declared > 0 else BATCH


async def _handle_all(subscriber: Subscriber, events: list[DomainEvent]) -> list[BaseException | None]:
    """Hand over claimed events (each the head of its stream), CONCURRENCY at a time; each one's failure."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(event: DomainEvent) -> BaseException | None:
        async with limit:
            try:
                await subscriber.handle(event)
            except Exception as exc:  # the subscriber's failure: recorded, retried with backoff
                return exc
            return None

    return list(await asyncio.gather(*(one(e) for e in events)))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
