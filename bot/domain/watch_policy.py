"""The policy's heartbeats (`heartbeats:`: jobs that must check in, or an alert is raised) and recurring
maintenance windows (`maintenance:`). Pure."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.durations import Duration
from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy


class Heartbeat(StrictModel):
    """A heartbeat: `POST /heartbeats/<name>` at least every `every` (plus `grace`), or an alert is raised
    for `service` at `severity` through the alert routing."""

    every: Duration
    grace: Duration = timedelta(minutes=2)
    service: str | None = None
    severity: str = "SEV2"


class RecurringMaintenance(StrictModel):
    """A maintenance window that comes back (the fields are the watch helper's to define)."""

    service: str
    reason: str = ""


Heartbeats = dict[str, Heartbeat]
MaintenanceWindows = list[RecurringMaintenance]


def problems(policy: Policy) -> list[str]:
    """What in the policy's heartbeats and maintenance names something the rest of the policy does not have."""
    return []
