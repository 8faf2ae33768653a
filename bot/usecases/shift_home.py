"""App Home's on-call section (a `HomeSection`): the viewer's shifts in the next 14 days as the schedules
stand, the give and swap requests waiting for their answer, and how to take, give or swap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain.oncall import shifts
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.schedule_book import ScheduleBook
from bot.usecases.shift_ports import ShiftMessages

HOME_DAYS = 14


@dataclass(frozen=True)
class ShiftHome:
    """The viewer's own on-call part of App Home."""

    uow: UnitOfWorkFactory
    book: ScheduleBook
    messages: ShiftMessages
    clock: Clock

    async def blocks(self, team_id: str, user_id: str) -> list[dict[str, Any]]:
        """The section's blocks for `user_id` (none when there are no schedules)."""
        if not self.book.policy.schedules:
            return []
        now = self.clock()
        standing = await self.book.schedules()
        directory = await self.book.directory(standing.values())
        theirs = sorted(
            (name, s.start, s.end, s.override)
            for name, schedule in standing.items()
            for s in shifts(schedule, now, now + timedelta(days=HOME_DAYS))
            if directory.names(s.user, user_id)
        )
        async with self.uow(read_only=True) as uow:
            pending = await uow.shifts.pending_for(user_id)
        return self.messages.home_section(sorted(theirs, key=lambda t: (t[1], t[0])), pending)
