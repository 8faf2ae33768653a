"""Private incidents (security, HR, legal): which declarations are private, and what may be said of one
outside its channel. Pure: who is a member of a channel is Slack's to say, and the caller asks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from bot.domain.incidents import Incident
    from bot.domain.policy import Policy


class PrivateIncidents(BaseModel):
    """The policy's `private_incidents` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The private channel is `<prefix>-<number>-<channel_suffix>`: its name never carries the title.
    channel_suffix: str = Field(default="private", pattern=r"^[a-z0-9_-]{1,30}$")
    # One line posted in the broadcast channel when a private incident is declared, e.g. "A private
    # incident was declared; contact #security." It never carries the title. None posts nothing.
    notice: str | None = None


def private_by_default(severity: str, service: str | None, policy: Policy) -> bool:
    """Whether the policy makes a declaration at `severity` (for `service`) private unless asked otherwise."""
    named = policy.severity_named(severity)
    by_service = policy.services.get(service) if service else None
    return bool((named is not None and named.private) or (by_service is not None and by_service.private))


def is_insider(incident: Incident, user_id: str) -> bool:
    """Whether Tocsin knows `user_id` belongs in a private incident without asking Slack: its declarer
    or a role holder (they are invited as the incident is set up or the role assigned)."""
    return user_id == incident.declared_by or user_id in incident.roles.values()


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is looking: a person (their private incidents' ids, as Slack's membership says), or nobody in
    particular (a message to a channel anyone may read)."""

    user_id: str | None
    member_of: frozenset[int] = field(default_factory=frozenset)

    def may_see(self, incident: Incident) -> bool:
        """Whether this audience may see the incident's title, channel and timeline."""
        return not incident.private or incident.id in self.member_of


EVERYONE = Audience(user_id=None)  # a post in a channel: only public incidents
