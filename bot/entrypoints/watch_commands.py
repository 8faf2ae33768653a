"""`/incident maintenance …`: list the windows, start one for a service (its alerts page nobody while it
lasts), end one early. Starting and ending is for the service's owners and the policy's admins (anyone,
when the service names no owners)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.durations import parse_duration
from bot.domain.errors import UsageError
from bot.domain.policy import Policy
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_types import Subcommand
from bot.slack.blocks import watch as views
from bot.slack.mrkdwn import escape, plain_from_slack, quoted
from bot.usecases.maintenance import Maintenance

if TYPE_CHECKING:  # types only
    from bot.entrypoints.commands import Invocation

USAGE = "maintenance [<service> <duration> [reason] | end <service|#number>]"
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class ListMaintenance:
    """`/incident maintenance`: the windows active and to come."""


@dataclass(frozen=True, slots=True)
class StartMaintenance:
    """`/incident maintenance <service> <duration> [reason]`."""

    service: str
    duration: timedelta
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EndMaintenance:
    """`/incident maintenance end <service|#number>`."""

    which: str


def parse_maintenance(rest: str, policy: Policy, usage: str) -> ListMaintenance | StartMaintenance | EndMaintenance:
    """The words after `/incident maintenance`."""
    words = plain_from_slack(rest).split(maxsplit=2)
    if not words:
        return ListMaintenance()
    if words[0].lower() == "end":
        if len(words) != 2:
            raise UsageError("Name the service (or the window's #number) to end its maintenance.", usage=usage)
        which = words[1].lower()
        if not which.lstrip("#").isdigit() and which not in policy.services:
            raise UsageError(f"There is no service called {quoted(which)}.", usage=usage)
        return EndMaintenance(which)
    service = words[0].lower()
    if service not in policy.services:
        known = escape(", ".join(sorted(policy.services)) or "none are configured")
        raise UsageError(f"There is no service called {quoted(service)} ({known}).", usage=usage)
    if len(words) < 2:
        raise UsageError("Say how long the window lasts, e.g. `2h` or `30m`.", usage=usage)
    try:
        duration = parse_duration(words[1])
    except ValueError:
        raise UsageError(f"{quoted(words[1])} is not a duration; write it like 30m, 2h or 1d.", usage=usage) from None
    if not timedelta(0) < duration <= timedelta(days=7):
        raise UsageError("A maintenance window lasts more than 0s and at most 7d.", usage=usage)
    reason = words[2].strip() if len(words) > 2 else ""
    if len(reason) > MAX_REASON:
        raise UsageError(f"The reason is at most {MAX_REASON} characters.", usage=usage)
    return StartMaintenance(service, duration, reason)


def maintenance_family(maintenance: Maintenance) -> CommandFamily:
    """The family, carried out by `maintenance`."""

    async def listing(invocation: Invocation, _parsed: ListMaintenance) -> None:
        now = invocation.deps.clock()
        await invocation.reply(*views.maintenance_list(await maintenance.listing(now=now), now=now))

    async def start(invocation: Invocation, parsed: StartMaintenance) -> None:
        window = await maintenance.open_window(parsed.service, parsed.duration, parsed.reason, actor=invocation.actor)
        await invocation.reply(views.maintenance_set(window))

    async def end(invocation: Invocation, parsed: EndMaintenance) -> None:
        ended = await maintenance.end_early(parsed.which, actor=invocation.actor)
        await invocation.reply(views.maintenance_cut_short(ended))

    return CommandFamily(
        subcommands=(
            Subcommand(
                "maintenance",
                USAGE,
                "list maintenance windows, silence a service's paging for a while, or end a window early",
                True,
            ),
        ),
        parsers={"maintenance": parse_maintenance},
        handlers={ListMaintenance: listing, StartMaintenance: start, EndMaintenance: end},
    )
