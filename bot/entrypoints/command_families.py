"""Subcommands a capability adds to `/incident` (its own module parses and handles them): the help lines,
the parsers of `/incident <word> …` and `/incident oncall <word> …`, and the handlers of what they parse.
The core's own subcommands are command_types.py's; a family's word never shadows one of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.domain.policy import Policy
from bot.entrypoints.command_types import Subcommand

if TYPE_CHECKING:  # types only
    from bot.domain.incidents import Incident, NewIncident
    from bot.domain.slack_values import ReplyTarget
    from bot.entrypoints.commands import Invocation

# (the text after the word, the policy, the usage line to show with a UsageError) -> a parsed command
Parser = Callable[[str, Policy, str], object]
Handler = Callable[["Invocation", Any], Awaitable[None]]
IncidentHandler = Callable[["Invocation", Any, "Incident"], Awaitable[None]]
# Declares a new incident, or first asks its declarer something (related: "Join INC-n instead?")
DeclareVetter = Callable[["NewIncident", "ReplyTarget"], Awaitable[None]]


@dataclass(frozen=True)
class CommandFamily:
    """One capability's subcommands.

    `handlers` carry out a parsed command on their own; `in_incident` ones are given the incident the
    command names (its `target`: INC-n, or the channel it was typed in), found as for the core's. A
    handler in `handlers` may also take over one of the core's commands (e.g. ShowOnCall)."""

    subcommands: tuple[Subcommand, ...] = ()
    parsers: Mapping[str, Parser] = field(default_factory=dict)
    oncall: Mapping[str, Parser] = field(default_factory=dict)
    handlers: Mapping[type, Handler] = field(default_factory=dict)
    in_incident: Mapping[type, IncidentHandler] = field(default_factory=dict)
    opens_form: Callable[[object], bool] = field(default=lambda _parsed: False)
    vets_declare: DeclareVetter | None = None  # a new incident, from the command or the form, goes here


def declare_vetter(families: tuple[CommandFamily, ...]) -> DeclareVetter | None:
    """The family that declares new incidents itself (after vetting them), if one does."""
    return next((f.vets_declare for f in families if f.vets_declare is not None), None)
