"""`/incident related`, the Link button of a related incident, and the offer a declare gets when an open
incident looks like the same one (Join instead / Declare anyway). Listeners acknowledge first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import UsageError, UserError
from bot.domain.incidents import HERE, Incident, NewIncident, Target
from bot.domain.numbers import parse_id
from bot.domain.policy import Policy
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_parser import _take_target
from bot.entrypoints.command_types import Subcommand
from bot.entrypoints.listening import Request, accepted
from bot.runtime.background import Background
from bot.slack.blocks import related as views
from bot.slack.gateway import ReplyTarget
from bot.usecases.ports import Clock
from bot.usecases.related import RelatedIncidents
from bot.usecases.related_actions import RelatedActions

if TYPE_CHECKING:  # types only
    from bot.entrypoints.commands import Invocation

NOT_A_BUTTON = "That button isn't attached to an incident any more."


@dataclass(frozen=True, slots=True)
class ShowRelated:
    """`/incident related [INC-n]`: the incident's related past incidents, to you only."""

    target: Target = HERE


def parse_related(rest: str, _policy: Policy, usage: str) -> ShowRelated:
    """`related` names at most the incident."""
    target, remainder = _take_target(rest)
    if remainder.strip():
        raise UsageError("`related` takes only the incident, e.g. `/incident related INC-42`.", usage=usage)
    return ShowRelated(target)


def command_family(related: RelatedIncidents, actions: RelatedActions) -> CommandFamily:
    """`/incident related`, and the declare's check for an open incident that looks like the same one (the
    core's declare, by command or form, hands its NewIncident to it)."""

    async def show(typed: Invocation, _parsed: ShowRelated, incident: Incident) -> None:
        await related.show(incident, viewer=typed.actor, reply_to=typed.reply_to)

    async def declare(new: NewIncident, reply_to: ReplyTarget) -> None:
        await actions.declare_or_offer(new, reply_to=reply_to)

    return CommandFamily(
        subcommands=(
            Subcommand("related", "related [INC-n]", "earlier incidents that look related (only to you)", True),
        ),
        parsers={"related": parse_related},
        vets_declare=declare,
        in_incident={ShowRelated: show},
    )


def _pair(value: object) -> tuple[int, int]:
    """A Link button's "<incident id>:<related incident id>"."""
    first, _, second = str(value or "").partition(":")
    one, other = parse_id(first), parse_id(second)
    if one is None or other is None:
        raise UserError(NOT_A_BUTTON)
    return one, other


def _one(value: object) -> int:
    found = parse_id(value)
    if found is None:
        raise UserError(NOT_A_BUTTON)
    return found


def listeners(actions: RelatedActions, background: Background, clock: Clock) -> Callable[[AsyncApp], None]:
    """The Bolt listeners of the Link, Join and Declare anyway buttons."""
    work = accepted(background, clock)

    def register(app: AsyncApp) -> None:
        @app.action(views.LINK)
        @work
        async def link_related(request: Request) -> None:
            incident_id, other_id = _pair(request.action.get("value"))
            await actions.link(
                incident_id, other_id, actor=request.actor, reply_to=request.reply_to, at=request.received
            )

        @app.action(views.JOIN)
        @work
        async def join_instead(request: Request) -> None:
            await actions.join(_one(request.action.get("value")), actor=request.actor, reply_to=request.reply_to)

        @app.action(views.DECLARE_ANYWAY)
        @work
        async def declare_anyway(request: Request) -> None:
            value = str(request.action.get("value") or "")
            await actions.declare_anyway(value, actor=request.actor, reply_to=request.reply_to)

    return register
