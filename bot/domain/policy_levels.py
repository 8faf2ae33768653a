"""The policy's severities and roles, with the defaults drawn from incident-management practice (the rest
of the policy: policy.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from bot.domain.context_policy import BridgePolicy
from bot.domain.durations import Duration
from bot.domain.policy_base import StrictModel

__all__ = ["Role", "Severity", "StrictModel", "default_roles", "default_severities"]


class Severity(StrictModel):
    """One severity level; the list is ordered most severe first."""

    name: str
    description: str = ""
    update_every: Duration | None = None
    notify: list[str] = Field(default_factory=list)
    colour: str | None = None
    private: bool = False  # declarations at this severity are private unless declared otherwise
    bridge: BridgePolicy | None = None  # its incidents' call (over the policy's)
    postmortem: bool = True  # False: resolving posts no draft, and the channel's archive counts from resolution


class Role(StrictModel):
    """An incident role people can be assigned to."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str
    aliases: list[str] = Field(default_factory=list)
    description: str = ""


def default_severities() -> list[Severity]:
    """SEV1 to SEV4, as incident-management practice names them."""
    return [
        Severity(
            name="SEV1",
            description="Full outage or critical data loss affecting many customers",
            update_every=timedelta(minutes=15),
            colour="#E01E5A",
        ),
        Severity(
            name="SEV2",
            description="Major feature broken or revenue at risk",
            update_every=timedelta(minutes=30),
            colour="#F2952F",
        ),
        Severity(
            name="SEV3",
            description="Partial impact with a workaround",
            update_every=timedelta(minutes=60),
            colour="#ECB22E",
        ),
        Severity(name="SEV4", description="Minor or internal-only", update_every=None, colour="#9A9A9A"),
    ]


def default_roles() -> list[Role]:
    """The Incident Commander, the Communications Lead, a Tech Lead and a Scribe."""
    return [
        Role(
            key="incident_commander",
            name="Incident Commander",
            aliases=["ic", "commander"],
            description="Owns the response and its decisions",
        ),
        Role(
            key="comms_lead",
            name="Communications Lead",
            aliases=["comms", "communications"],
            description="Keeps stakeholders informed",
        ),
        Role(key="tech_lead", name="Tech Lead", aliases=["tech", "tl"], description="Leads the investigation"),
        Role(key="scribe", name="Scribe", aliases=[], description="Keeps the timeline"),
    ]
