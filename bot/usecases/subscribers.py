"""Tocsin's own durable subscribers of the event log: effects of a change that reach beyond it, run once
the change has committed (and again after a crash, so each is idempotent or harmless twice)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.events import DomainEvent, EventKind, IncidentRoleAssigned
from bot.domain.incidents import IC_ROLE
from bot.usecases.catch_up import CatchUp
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.postmortems import PostmortemService


@dataclass(frozen=True)
class PostmortemRefresh:
    """A published postmortem canvas shows its follow-ups as they are now."""

    postmortems: PostmortemService
    name: str = "postmortem-refresh"
    kinds: Collection[EventKind] | None = frozenset({EventKind.FOLLOW_UP_CREATED, EventKind.FOLLOW_UP_CLOSED})

    async def handle(self, event: DomainEvent) -> None:
        """Refresh the canvas of the follow-up's incident (quietly; a file draft is left alone)."""
        if event.subject.incident_id is not None:
            await self.postmortems.refresh(event.subject.incident_id)


@dataclass(frozen=True)
class CommanderHandover:
    """A new Incident Commander, taking over from someone, gets the catch-up summary by DM."""

    uow: UnitOfWorkFactory
    catch_up: CatchUp
    name: str = "ic-handover"
    kinds: Collection[EventKind] | None = frozenset({EventKind.INCIDENT_ROLE_ASSIGNED})

    async def handle(self, event: DomainEvent) -> None:
        """DM the summary when the role handed over is the commander's."""
        data = event.data
        if not isinstance(data, IncidentRoleAssigned) or data.role != IC_ROLE or data.previous is None:
            return
        if event.subject.incident_id is None:
            return
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(event.subject.incident_id)
        if incident is not None and incident.commander == data.user:  # still theirs: not handed on again since
            await self.catch_up.handover(incident, data.user)
