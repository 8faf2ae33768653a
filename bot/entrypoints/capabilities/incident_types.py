"""Incident types and their custom fields: `/incident field`, and the declare form showing the chosen
type's fields (views.update as soon as a type is picked)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.listening import Request, accepted
from bot.entrypoints.type_commands import type_family
from bot.entrypoints.type_form import chosen_type
from bot.runtime.logs import event
from bot.slack.blocks.incident_types import TYPE_ACTION, with_type_blocks
from bot.slack.view_updates import ViewUpdates, sendable
from bot.usecases.hooks import Hooks
from bot.usecases.incident_fields import IncidentFields
from bot.usecases.type_setup import tell_type_stakeholders

if TYPE_CHECKING:  # types only
    from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


@dataclass
class IncidentTypes:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "incident_types"

    def hooks(self) -> Hooks:
        """The type's stakeholder channels hear of its incidents once the header is shown (the type's
        severity, privacy and fields are applied where declaring reads them)."""
        return Hooks(setup_steps=(tell_type_stakeholders,))

    def surfaces(self, core: Core) -> Surfaces:
        """`/incident field`, and the declare form's type select."""
        base = self.base
        fields = IncidentFields(
            uow=base.uow,
            policy=base.policy,
            clock=base.clock,
            messages=base.messages,
            announce=core.response.announce,
            directory=base.directory,
        )
        views = ViewUpdates(base.slack.client)

        async def type_chosen(request: Request) -> None:
            """A type was picked in the declare form: show that type's fields (unless the form changed since)."""
            view = request.body.get("view") or {}
            picked = chosen_type((view.get("state") or {}).get("values") or {}, base.policy)
            retyped = {**sendable(view), "blocks": with_type_blocks(view.get("blocks") or [], base.policy, picked)}
            if not await views.replace(str(view.get("id")), retyped, view_hash=view.get("hash")):
                log.info("the declare form of %s changed or closed before it could show its type", request.actor)
                return
            event(log, "declare form shows the %s type's fields", picked or "no", actor=request.actor)

        def listeners(app: AsyncApp) -> None:
            app.action(TYPE_ACTION)(accepted(core.background, base.clock, urgent=True)(type_chosen))

        return Surfaces(commands=type_family(fields.set_field), listeners=listeners)


def capability(base: Base) -> IncidentTypes:
    """Build the capability."""
    return IncidentTypes(base)
