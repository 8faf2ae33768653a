"""The policy's incident types (`types:`): each may set defaults for its incidents and has its own fields.
Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy


class IncidentType(StrictModel):
    """An incident type (its keys are the types helper's to define)."""

    description: str = ""


IncidentTypes = dict[str, IncidentType]


def problems(policy: Policy) -> list[str]:
    """What in the policy's types names something the rest of the policy does not have."""
    return []
