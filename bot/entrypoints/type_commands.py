"""`/incident field <name> <value>`: set one of the incident type's fields (`--clear` empties it). The
value is checked against the field once the incident, and so its type, is known."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.errors import UsageError
from bot.domain.incidents import HERE, Target
from bot.domain.policy import Policy
from bot.domain.type_policy import NAME
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_parser import _take_target
from bot.entrypoints.command_types import Subcommand

if TYPE_CHECKING:  # types only
    from bot.domain.incidents import Incident
    from bot.entrypoints.commands import Invocation

USAGE = "field [INC-n] <name> <value|--clear>"

# (incident id, name, the value as typed, actor, when) -> the field set; raises UserError when it cannot be
SetField = Callable[..., Awaitable[object]]


@dataclass(frozen=True, slots=True)
class FieldCommand:
    """Set (or with `--clear`, empty) one of the incident type's fields; `typed` as Slack sent it."""

    name: str
    typed: str
    target: Target = HERE


def parse_field(rest: str, policy: Policy, usage: str) -> FieldCommand:
    """`/incident field [INC-n] <name> <value>`."""
    target, rest = _take_target(rest)
    parts = rest.split(maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        names = sorted({f.name for kind in policy.types.values() for f in kind.fields})
        known = f" (fields: {', '.join(names)})" if names else " (the policy's types have no fields)"
        raise UsageError(f"Name the field and give its value{known}.", usage=usage)
    name = parts[0].lower()
    if not NAME.match(name):
        raise UsageError("A field's name is one word, e.g. `customer`.", usage=usage)
    return FieldCommand(name, parts[1].strip(), target)


def type_family(set_field: SetField) -> CommandFamily:
    """The family, setting fields with `set_field(incident_id, name=…, typed=…, actor=…, reply_to=…, at=…)`
    (IncidentFields.set_field)."""

    async def handle(invocation: Invocation, parsed: FieldCommand, incident: Incident) -> None:
        await set_field(
            incident.id,
            name=parsed.name,
            typed=parsed.typed,
            actor=invocation.actor,
            reply_to=invocation.reply_to,
            at=invocation.at,
        )

    return CommandFamily(
        subcommands=(Subcommand("field", USAGE, "set one of the incident type's fields (a URL also bookmarks)", True),),
        parsers={"field": parse_field},
        in_incident={FieldCommand: handle},
    )
