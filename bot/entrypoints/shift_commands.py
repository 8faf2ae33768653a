"""`/incident oncall take|give|swap|remove|log|calendar`, `/incident oncall [service]` as the schedules
stand (overrides made from Slack, maintenance windows), and the Accept/Decline buttons of a give or swap.
Parsing is pure; the handlers call one use case each and reply with what it gives back."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import UsageError, UserError
from bot.domain.numbers import parse_id
from bot.domain.overrides import parse_length, take_when
from bot.domain.policy import Policy
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_types import ShowOnCall, Subcommand
from bot.entrypoints.listening import Request, accepted
from bot.runtime.background import Background
from bot.slack.blocks import oncall_lines
from bot.slack.blocks import shifts as shift_blocks
from bot.slack.mrkdwn import escape, plain_from_slack, quoted
from bot.usecases.calendars import Calendars
from bot.usecases.hooks import Silences
from bot.usecases.ports import Clock
from bot.usecases.schedule_book import ScheduleBook
from bot.usecases.shift_changes import ShiftChanges

if TYPE_CHECKING:  # types only
    from bot.entrypoints.commands import Invocation

_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True, slots=True)
class TakeShift:
    """Take a schedule from a moment (for a length, else to the end of that turn)."""

    schedule: str
    when: str
    length: timedelta | None


@dataclass(frozen=True, slots=True)
class GiveShift:
    """Ask someone to take your shift."""

    schedule: str
    to: str
    when: str
    length: timedelta | None


@dataclass(frozen=True, slots=True)
class SwapShifts:
    """Ask someone to swap your turn at `mine` for theirs at `theirs`."""

    schedule: str
    other: str
    mine: str
    theirs: str


@dataclass(frozen=True, slots=True)
class RemoveOverride:
    """Remove an override made from Slack."""

    override_id: int


@dataclass(frozen=True, slots=True)
class ShowShiftLog:
    """The audit list (one schedule's, or all)."""

    schedule: str | None


@dataclass(frozen=True, slots=True)
class ShowCalendars:
    """The calendar feeds; `rotate` ("me" or a schedule) makes a new address first."""

    rotate: str | None


SUBCOMMANDS = (
    Subcommand("oncall take", "oncall take <schedule> <when> [length]", "be on call instead (e.g. `now 4h`)", True),
    Subcommand("oncall give", "oncall give <schedule> @user <when> [length]", "ask someone to take your shift", True),
    Subcommand(
        "oncall swap", "oncall swap <schedule> @user <your shift> <their shift>", "ask someone to swap shifts", True
    ),
    Subcommand("oncall remove", "oncall remove <override number>", "undo an override made from Slack", True),
    Subcommand("oncall log", "oncall log [schedule]", "the audit list of on-call changes", True),
    Subcommand("oncall calendar", "oncall calendar [rotate [schedule]]", "calendar feed URLs of shifts", True),
)


# ----- parsing (pure) ----------------------------------------------------------------------------
def _schedule(word: str, policy: Policy, usage: str) -> str:
    name = plain_from_slack(word)
    if name in policy.schedules:
        return name
    folded = {n.lower(): n for n in policy.schedules}
    if name.lower() in folded:
        return folded[name.lower()]
    known = escape(", ".join(sorted(policy.schedules)) or "none are configured")
    raise UsageError(f"There is no schedule called {quoted(name)} ({known}).", usage=usage)


def _person(word: str, usage: str) -> str:
    match = _USER_MENTION.match(word)
    if not match:
        raise UsageError("Mention the other person, e.g. @bob.", usage=usage)
    return match.group(1)


def _when(words: list[str], usage: str) -> tuple[str, list[str]]:
    try:
        return take_when(words)
    except UserError as exc:
        raise UsageError(str(exc), usage=usage) from None


def _length(words: list[str], usage: str) -> timedelta | None:
    if len(words) > 1:
        raise UsageError("That's more than I expected after the time.", usage=usage)
    try:
        return parse_length(words[0]) if words else None
    except UserError as exc:
        raise UsageError(str(exc), usage=usage) from None


def _words(rest: str, need: int, usage: str) -> list[str]:
    words = rest.split()
    if len(words) < need:
        raise UsageError("Some of it is missing.", usage=usage)
    return words


def parse_take(rest: str, policy: Policy, usage: str) -> TakeShift:
    """`oncall take <schedule> <when> [length]`."""
    words = _words(rest, 2, usage)
    when, after = _when(words[1:], usage)
    return TakeShift(_schedule(words[0], policy, usage), when, _length(after, usage))


def parse_give(rest: str, policy: Policy, usage: str) -> GiveShift:
    """`oncall give <schedule> @user <when> [length]`."""
    words = _words(rest, 3, usage)
    when, after = _when(words[2:], usage)
    return GiveShift(_schedule(words[0], policy, usage), _person(words[1], usage), when, _length(after, usage))


def parse_swap(rest: str, policy: Policy, usage: str) -> SwapShifts:
    """`oncall swap <schedule> @user <your shift> <their shift>`."""
    words = _words(rest, 4, usage)
    mine, after = _when(words[2:], usage)
    theirs, extra = _when(after, usage)
    if extra:
        raise UsageError("That's more than I expected after their shift.", usage=usage)
    return SwapShifts(_schedule(words[0], policy, usage), _person(words[1], usage), mine, theirs)


def parse_remove(rest: str, _policy: Policy, usage: str) -> RemoveOverride:
    """`oncall remove <override number>` (`#12` or `12`)."""
    number = parse_id(rest.strip().lstrip("#"))
    if number is None:
        raise UsageError("Give the override's number (`/incident oncall log` lists them).", usage=usage)
    return RemoveOverride(number)


def parse_log(rest: str, policy: Policy, usage: str) -> ShowShiftLog:
    """`oncall log [schedule]`."""
    words = rest.split()
    if len(words) > 1:
        raise UsageError("Name one schedule, or none for all.", usage=usage)
    return ShowShiftLog(_schedule(words[0], policy, usage) if words else None)


def parse_calendar(rest: str, policy: Policy, usage: str) -> ShowCalendars:
    """`oncall calendar [rotate [schedule]]`."""
    words = rest.split()
    if not words:
        return ShowCalendars(None)
    if words[0].lower() != "rotate" or len(words) > 2:
        raise UsageError("Say `rotate` for a new address of your feed, or `rotate <schedule>`.", usage=usage)
    return ShowCalendars(_schedule(words[1], policy, usage) if len(words) == 2 else "me")


# ----- handling ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShiftCommands:
    """What the handlers call."""

    changes: ShiftChanges
    calendars: Calendars
    book: ScheduleBook
    clock: Clock
    silences: Silences | None = None

    def family(self) -> CommandFamily:
        """The subcommands, their parsers and handlers (ShowOnCall's too: the schedules as they stand)."""
        return CommandFamily(
            subcommands=SUBCOMMANDS,
            oncall={
                "take": parse_take,
                "give": parse_give,
                "swap": parse_swap,
                "remove": parse_remove,
                "log": parse_log,
                "calendar": parse_calendar,
            },
            handlers={
                TakeShift: self.take,
                GiveShift: self.give,
                SwapShifts: self.swap,
                RemoveOverride: self.remove,
                ShowShiftLog: self.log,
                ShowCalendars: self.calendar,
                ShowOnCall: self.on_call,
            },
        )

    async def take(self, typed: Invocation, parsed: TakeShift) -> None:
        """Take a shift."""
        override = await self.changes.take(
            schedule=parsed.schedule, actor=typed.actor, when=parsed.when, length=parsed.length, at=typed.at
        )
        await typed.reply(*shift_blocks.took(override))

    async def give(self, typed: Invocation, parsed: GiveShift) -> None:
        """Ask someone to take your shift."""
        request = await self.changes.give(
            schedule=parsed.schedule,
            actor=typed.actor,
            to=parsed.to,
            when=parsed.when,
            length=parsed.length,
            at=typed.at,
            team_id=typed.team_id,
        )
        await typed.reply(*shift_blocks.asked(request))

    async def swap(self, typed: Invocation, parsed: SwapShifts) -> None:
        """Ask someone to swap."""
        request = await self.changes.swap(
            schedule=parsed.schedule,
            actor=typed.actor,
            other=parsed.other,
            mine=parsed.mine,
            theirs=parsed.theirs,
            at=typed.at,
            team_id=typed.team_id,
        )
        await typed.reply(*shift_blocks.asked(request))

    async def remove(self, typed: Invocation, parsed: RemoveOverride) -> None:
        """Remove an override."""
        override = await self.changes.remove(parsed.override_id, actor=typed.actor, at=typed.at)
        await typed.reply(*shift_blocks.removed(override))

    async def log(self, typed: Invocation, parsed: ShowShiftLog) -> None:
        """Show the audit list."""
        entries = await self.changes.entries(parsed.schedule)
        await typed.reply(*shift_blocks.log_lines(entries, parsed.schedule))

    async def calendar(self, typed: Invocation, parsed: ShowCalendars) -> None:
        """Show (and maybe rotate) the calendar feed URLs, to the asker only."""
        links = await self.calendars.links(actor=typed.actor, rotate=parsed.rotate)
        rows = [(link.label, link.url, link.personal) for link in links]
        await typed.reply(*shift_blocks.calendar_links(rows, rotated=parsed.rotate is not None))

    async def on_call(self, typed: Invocation, parsed: ShowOnCall) -> None:
        """Who is on call now, as the schedules stand, and the maintenance windows silencing paging."""
        text, body = oncall_lines(await self.book.on_call_now(parsed.service, now=typed.at))
        if self.silences is not None:
            windows = await self.silences.active(now=typed.at)
            body = [*body, *shift_blocks.maintenance_lines(windows)]
            if windows:
                text += "\nMaintenance now: " + "; ".join(escape(w) for w in windows)
        await typed.reply(text, body)


def shift_listeners(changes: ShiftChanges, background: Background, clock: Clock) -> Callable[[AsyncApp], None]:
    """The Accept and Decline buttons of a give or swap request (in its DM, or on App Home)."""

    def register(app: AsyncApp) -> None:
        work = accepted(background, clock)

        async def answer(request: Request, accept: bool) -> None:
            request_id = parse_id(str(request.action.get("value", "")))
            if request_id is None:
                raise UserError("That button isn't attached to a request any more.")
            await changes.answer(
                request_id, actor=request.actor, accept=accept, at=request.received, team_id=_team(request.body)
            )

        @app.action(shift_blocks.SHIFT_ACCEPT)
        @work
        async def accept_shift_request(request: Request) -> None:
            await answer(request, True)

        @app.action(shift_blocks.SHIFT_DECLINE)
        @work
        async def decline_shift_request(request: Request) -> None:
            await answer(request, False)

    return register


def _team(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or "")
