"""Related past incidents: full-text search, the offer to join an open one instead, links both ways."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.related_commands import command_family, listeners
from bot.slack.blocks import related as views
from bot.usecases.hooks import Hooks
from bot.usecases.related import RelatedIncidents
from bot.usecases.related_actions import RelatedActions


@dataclass
class Related:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "related"
    related: RelatedIncidents = field(init=False)
    actions: RelatedActions = field(init=False)

    def __post_init__(self) -> None:
        """The use cases; who may see a private incident, and declaring, come with the core."""
        base = self.base
        self.related = RelatedIncidents(uow=base.uow, slack=base.slack, views=views, clock=base.clock)
        self.actions = RelatedActions(uow=base.uow, slack=base.slack, views=views, clock=base.clock)

    def hooks(self) -> Hooks:
        """The set-up posts the related incidents in the new channel; the summary lists them."""
        return Hooks(setup_steps=(self.related.step,), summary=(self.related,))

    def surfaces(self, core: Core) -> Surfaces:
        """`/incident related`, the declare's offer, and the Link / Join / Declare anyway buttons."""
        self.related.visibility = self.actions.visibility = core.visibility
        self.actions.incidents = core.incidents
        return Surfaces(
            commands=command_family(self.related, self.actions),
            listeners=listeners(self.actions, core.background, self.base.clock),
        )


def capability(base: Base) -> Related:
    """Build the capability."""
    return Related(base)
