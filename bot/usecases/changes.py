"""What every change to an incident does alike: read it once, row-locked; read what it commits inside the
same transaction; log one line. Shared by the respond and lifecycle use cases."""

from __future__ import annotations

import logging

from bot.domain.errors import NotFoundError, UserError
from bot.domain.incidents import Incident
from bot.runtime.logs import event
from bot.usecases.ports import UnitOfWork


async def locked(uow: UnitOfWork, incident_id: int, in_channel: str | None = None) -> Incident:
    """The incident, row-locked for this change: the one read a change makes. `in_channel`: where a
    control was used, refused unless it is the incident's own channel (a crafted id may name another)."""
    incident = await uow.incidents.locked(incident_id)
    if incident is None:
        raise NotFoundError("That incident no longer exists.")
    if in_channel is not None and in_channel != incident.channel_id:
        raise UserError("That control belongs to another incident's channel.")
    return incident


async def committed(uow: UnitOfWork, incident_id: int) -> Incident:
    """The incident as this change leaves it, read in the change's own transaction just before it
    commits (no second transaction to see what was just written)."""
    incident = await uow.incidents.fresh(incident_id)
    if incident is None:
        raise NotFoundError("That incident no longer exists.")
    return incident


def log_change(log: logging.Logger, incident: Incident, what: str, actor: str) -> None:
    """One INFO line for a change made: the incident, what, and who."""
    event(log, "%s: %s (by %s)", incident.reference, what, actor,
          incident=incident.reference, actor=actor, team=incident.team_id)  # fmt: skip
