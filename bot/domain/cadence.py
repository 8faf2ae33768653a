"""When the next status update is due. Pure."""

from __future__ import annotations

from datetime import datetime

from bot.domain.incidents import Incident
from bot.domain.policy import Policy


def first_update_due(declared_at: datetime, policy: Policy) -> datetime:
    """The first update is due `first_update_within` after declaring, whatever the severity."""
    return declared_at + policy.first_update_within


def due_on_declare(severity: str, declared_at: datetime, policy: Policy) -> datetime | None:
    """When the first update is due for a new incident (none for a severity without a cadence)."""
    named = policy.severity_named(severity)
    if named is None or named.update_every is None:
        return None
    return first_update_due(declared_at, policy)


def due_after_update(severity: str, updated_at: datetime, policy: Policy) -> datetime | None:
    """After an update, the next is due one `update_every` of the severity later (never, without one)."""
    named = policy.severity_named(severity)
    if named is None or named.update_every is None:
        return None
    return updated_at + named.update_every


def due_for(incident: Incident, severity: str, policy: Policy) -> datetime | None:
    """When `incident`'s next update is due at `severity`: relative to its last real update (or, before
    the first, to declaring); none once resolved or for a severity without a cadence."""
    if not incident.status.is_open:
        return None
    if incident.last_update_at is None:
        return due_on_declare(severity, incident.declared_at, policy)
    return due_after_update(severity, incident.last_update_at, policy)
