"""Reading the public status page from the database: the published incidents it shows, and a version
number that moves whenever anything it shows may have changed (the event log's newest position: every
publication, severity change or resolution appends an event, whichever replica made it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.domain.policy import Policy
from bot.domain.status_page import HISTORY_DAYS, StatusSnapshot, build_snapshot
from bot.usecases.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class StatusBoard:
    """The status page's reads (each in a read-only unit of work of its own)."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    days: int = HISTORY_DAYS

    def today(self) -> date:
        """Today in the policy's time zone (the page's history moves on at its midnight)."""
        return self.clock().astimezone(ZoneInfo(self.policy.timezone)).date()

    async def version(self) -> int:
        """The page's version now: one cheap read."""
        async with self.uow(read_only=True) as uow:
            return await uow.status.version()

    async def snapshot(self) -> tuple[int, StatusSnapshot]:
        """The page as it is now, and the version it was read at (read first: a change committed while the
        page is read makes the next look read it again)."""
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            version = await uow.status.version()
            # A day more than the history: the policy's time zone may start its first day before UTC's.
            published = await uow.status.published(since=now - timedelta(days=self.days + 1))
        return version, build_snapshot(published, self.policy, now=now, days=self.days)
