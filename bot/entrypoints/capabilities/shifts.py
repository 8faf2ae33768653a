"""Overrides and swaps from Slack, the schedules as they stand, calendar feeds."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.entrypoints.calendar_feeds import add_calendar_routes
from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.shift_commands import ShiftCommands, shift_listeners
from bot.slack.blocks import shifts as shift_blocks
from bot.usecases.calendars import Calendars
from bot.usecases.hooks import Hooks
from bot.usecases.schedule_book import ScheduleBook
from bot.usecases.shift_changes import ShiftChanges
from bot.usecases.shift_home import ShiftHome
from bot.usecases.shift_notices import ShiftNotices


@dataclass
class Shifts:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "shifts"
    book: ScheduleBook = field(init=False)

    def __post_init__(self) -> None:
        """The schedule book is a hook: it exists before the core."""
        base = self.base
        self.book = ScheduleBook(base.uow, base.policy, base.clock, people=base.directory)

    def hooks(self) -> Hooks:
        """The schedules as they stand (a page's snapshot, and whoever reads them), and App Home's part."""
        home = ShiftHome(self.base.uow, self.book, shift_blocks, self.base.clock)
        return Hooks(schedules=self.book, home_sections=(home,))

    def surfaces(self, core: Core) -> Surfaces:
        """The `/incident oncall` subcommands, the Accept/Decline buttons and the calendar feeds."""
        base = self.base
        notices = ShiftNotices(base.uow, base.slack, shift_blocks, refresh_home=core.home.opened)
        changes = ShiftChanges(
            uow=base.uow,
            notices=notices,
            policy=base.policy,
            clock=base.clock,
            book=self.book,
            wake_jobs=base.wake_jobs,
        )
        calendars = Calendars(base.uow, base.policy, base.clock, self.book, base.public_url)
        commands = ShiftCommands(changes, calendars, self.book, base.clock, silences=core.hooks.silences)

        def routes(app: web.Application) -> None:
            add_calendar_routes(app, calendars)

        return Surfaces(
            commands=commands.family(),
            listeners=shift_listeners(changes, core.background, base.clock),
            routes=routes,
        )


def capability(base: Base) -> Shifts:
    """Build the capability."""
    return Shifts(base)
