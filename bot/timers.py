"""The timer tick. Every due time lives in a database row (an incident's reminder, a page's next step);
APScheduler only wakes this tick, which claims due rows under a lease and fires them.

Claims use `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer), so two replicas
never take the same row, and each firing is recorded and rescheduled in one transaction. A restart
fires whatever came due meanwhile, once: late rather than never. A tick that dies mid-way leaves its
claims to expire (the lease), and the next tick takes them again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError

from bot.followup_flow import FollowUpService
from bot.paging import Pager
from bot.reminders import Reminders
from bot.slack_io import slack_error
from bot.uow_types import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 200
CONCURRENCY = 16
TICK_SECONDS = 0.5


@dataclass
class Timers:
    """Claims and fires due reminders and page steps."""

    uow: UnitOfWorkFactory
    reminders: Reminders
    pager: Pager
    clock: Clock
    follow_ups: FollowUpService | None = None
    lease: timedelta = LEASE
    batch: int = BATCH
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _scheduler: AsyncIOScheduler | None = None
    _kicks: set[asyncio.Task[int]] = field(default_factory=set)

    async def tick(self) -> int:
        """Fire everything due now; returns how many timers fired. One tick at a time per process."""
        async with self._lock:
            fired = 0
            while True:
                batch = await self._tick_once()
                fired += batch
                if batch < self.batch:
                    return fired

    async def _tick_once(self) -> int:
        now = self.clock()
        token = str(uuid.uuid4())
        async with self.uow() as uow:
            reminders = await uow.pages.claim_due_reminders(now=now, lease=self.lease, token=token, limit=self.batch)
            pages = await uow.pages.claim_due(now=now, lease=self.lease, token=token, limit=self.batch)
            follow_ups = []
            if self.follow_ups is not None:
                follow_ups = await uow.follow_ups.claim_due(now=now, lease=self.lease, token=token, limit=self.batch)
            await uow.commit()
        if not reminders and not pages and not follow_ups:
            return 0
        # One read for everything claimed (a read per timer costs more CPU than its Slack call).
        async with self.uow(read_only=True) as uow:
            incidents = await uow.incidents.get_many(reminders)
            claimed_pages = await uow.pages.get_many(pages)
            channels = await uow.incidents.channels_of([p.incident_id for p in claimed_pages.values() if p.incident_id])
            items = await uow.follow_ups.get_many(follow_ups)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def fire(kind: str, item: int) -> None:
            async with limit:
                try:
                    if kind == "reminder":
                        await self.reminders.fire(item, token=token, now=now, incident=incidents.get(item))
                    elif kind == "follow_up":
                        assert self.follow_ups is not None
                        await self.follow_ups.remind(item, token=token, now=now, item=items.get(item))
                    else:
                        page = claimed_pages.get(item)
                        channel = channels.get(page.incident_id) if page and page.incident_id else None
                        await self.pager.step(item, token=token, now=now, loaded=(page, channel))
                except SlackApiError as exc:  # Slack refused: the lease expires and a later tick retries
                    log.warning("%s %s did not fire (%s); it will be retried", kind, item, slack_error(exc))
                except Exception:  # one failure must not stop the tick; the lease retries it later
                    log.exception("%s %s did not fire; it will be retried", kind, item)

        await asyncio.gather(
            *(fire("reminder", i) for i in reminders),
            *(fire("page", i) for i in pages),
            *(fire("follow_up", i) for i in follow_ups),
        )
        return len(reminders) + len(pages) + len(follow_ups)

    def wake(self) -> None:
        """Tick as soon as possible (a page just started)."""
        task = asyncio.get_running_loop().create_task(self.tick())
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)

    async def idle(self) -> None:
        """Wait for ticks in progress (and ones just woken) to finish."""
        while self._kicks:
            await asyncio.gather(*list(self._kicks), return_exceptions=True)
        async with self._lock:
            return

    def start(self, every: float = TICK_SECONDS) -> None:
        """Start the clock: a tick now (overdue work from before a restart) and every `every` seconds."""
        self._scheduler = AsyncIOScheduler()
        self._scheduler.add_job(
            self.tick, "interval", seconds=every, max_instances=1, coalesce=True, misfire_grace_time=None
        )
        self._scheduler.start()
        self.wake()

    async def stop(self) -> None:
        """Stop the clock and let a tick in progress finish."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.idle()
