"""The policy's channel context: the call bridge (`bridge:`, also per service, severity and type) and how
long after its postmortem an incident's channel is archived (`archive_after:`). Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy


class BridgePolicy(StrictModel):
    """Where an incident's call is: a fixed URL, a generated Jitsi room (`url`: the Jitsi server), or a Zoom
    meeting made through Zoom's Server-to-Server OAuth API."""

    kind: Literal["static", "jitsi", "zoom"]
    url: str | None = None


def problems(policy: Policy) -> list[str]:
    """What in the policy's bridge and archive_after names something the rest of the policy does not have."""
    return []
