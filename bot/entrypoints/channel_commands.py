"""`/incident bridge [url]` and `/incident title <new>`: their help lines, parsers and handlers (a
CommandFamily, bot/entrypoints/command_families.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.errors import UsageError
from bot.domain.incidents import Incident, Target
from bot.domain.policy import Policy
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_parser import _take_target
from bot.entrypoints.command_types import Subcommand
from bot.slack.mrkdwn import plain_from_slack
from bot.usecases.bridges import BridgeService
from bot.usecases.retitle import Retitler

if TYPE_CHECKING:  # a type only (commands.py imports the capabilities' families through its deps)
    from bot.entrypoints.commands import Invocation


@dataclass(frozen=True)
class Bridge:
    """`/incident bridge [INC-n] [url]`: show the call (no url) or replace it."""

    url: str | None
    target: Target


@dataclass(frozen=True)
class Retitle:
    """`/incident title [INC-n] <new title>`."""

    title: str
    target: Target


SUBCOMMANDS = (
    Subcommand("bridge", "bridge [url]", "show the incident's call (only to you), or replace it", True),
    Subcommand("title", "title <new title>", "retitle the incident (its channel is renamed to follow)", True),
)


def parse_bridge(rest: str, _policy: Policy, _usage: str) -> Bridge:
    """`bridge [INC-n] [url]`."""
    target, after = _take_target(rest)
    url = after.strip() or None
    return Bridge(url, target)


def parse_title(rest: str, _policy: Policy, usage: str) -> Retitle:
    """`title [INC-n] <new title>`."""
    target, after = _take_target(rest)
    title = plain_from_slack(after).strip()
    if not title:
        raise UsageError("Give the new title.", usage=usage)
    return Retitle(title, target)


def family(bridges: BridgeService, retitler: Retitler) -> CommandFamily:
    """The channel context's subcommands, handled by these use cases."""

    async def bridge(invocation: Invocation, parsed: Any, incident: Incident) -> None:
        if parsed.url is None:
            await bridges.show(incident, reply_to=invocation.reply_to)
            return
        await bridges.replace(incident.id, parsed.url, actor=invocation.actor, at=invocation.at)

    async def retitle(invocation: Invocation, parsed: Any, incident: Incident) -> None:
        await retitler.retitle(
            incident.id, title=parsed.title, actor=invocation.actor, reply_to=invocation.reply_to, at=invocation.at
        )

    return CommandFamily(
        subcommands=SUBCOMMANDS,
        parsers={"bridge": parse_bridge, "title": parse_title},
        in_incident={Bridge: bridge, Retitle: retitle},
    )
