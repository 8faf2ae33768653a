"""Lifecycle rules: which status moves are allowed and what each one stamps. Pure."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import UserError
from bot.domain.incidents import Incident, Status

ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
    Status.INVESTIGATING: frozenset({Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED}),
    Status.IDENTIFIED: frozenset({Status.INVESTIGATING, Status.MONITORING, Status.RESOLVED}),
    Status.MONITORING: frozenset({Status.INVESTIGATING, Status.IDENTIFIED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def check_move(incident: Incident, target: Status) -> None:
    """Refuse a move the lifecycle does not allow, saying what to do instead."""
    if target is incident.status:
        raise UserError(f"{incident.reference} is already {incident.status.label.lower()}.")
    if target in ALLOWED_MOVES[incident.status]:
        return
    if incident.status is Status.RESOLVED:
        raise UserError(f"{incident.reference} is resolved. Use `/incident reopen` first if it's back.")
    raise UserError(f"{incident.reference} can't go from {incident.status.label} to {target.label}.")


REOPENABLE = frozenset({Status.RESOLVED, Status.CLOSED})  # resolved, or its postmortem done (and maybe archived)


def check_reopen(incident: Incident) -> None:
    """Refuse reopening an incident that is not over (resolved, or closed with its postmortem done)."""
    if incident.status not in REOPENABLE:
        raise UserError(f"{incident.reference} is {incident.status.label.lower()}, not resolved.")


def stamps_for(incident: Incident, target: Status, now: datetime) -> dict[str, datetime]:
    """The lifecycle timestamps a move sets: the first time each stage is reached (they feed the metrics)."""
    stamps: dict[str, datetime] = {}
    if target is Status.IDENTIFIED and incident.identified_at is None:
        stamps["identified_at"] = now
    if target is Status.MONITORING and incident.mitigated_at is None:
        stamps["mitigated_at"] = now
    if target is Status.RESOLVED:
        stamps["resolved_at"] = now
        if incident.mitigated_at is None:
            stamps["mitigated_at"] = now
    return stamps
