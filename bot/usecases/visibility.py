"""Who may see a private incident: the members of its channel, as Slack says (conversations.members),
remembered for a short while. Never the request's word: a payload can claim any channel."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.domain.incidents import Incident
from bot.domain.privacy import Audience, is_insider
from bot.slack.gateway import SlackGateway, slack_error

log = logging.getLogger(__name__)

MEMBERS_TTL_SECONDS = 30.0  # how long a channel's member list is trusted before asking Slack again
MAX_REMEMBERED_CHANNELS = 1000


@dataclass
class Visibility:
    """Answers "may this person see this incident?" for private incidents (public ones: always)."""

    slack: SlackGateway
    ttl: float = MEMBERS_TTL_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    _members: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict, init=False)

    async def may_see(self, incident: Incident, user_id: str) -> bool:
        """Whether `user_id` may see `incident`: anyone a public one; a private one, its channel's members
        (before it has a channel, its declarer and role holders). When Slack cannot say, no."""
        if not incident.private:
            return True
        if incident.channel_id is None:
            return is_insider(incident, user_id)
        try:
            return user_id in await self._members_of(incident.channel_id)
        except Exception as exc:  # fail closed: a private incident is hidden rather than leaked
            log.warning("%s: membership of its channel unknown: %s", incident.reference, slack_error(exc))
            return False

    async def audience(self, user_id: str, private: Iterable[Incident]) -> Audience:
        """`user_id` as an audience: the private incidents among `private` they may see."""
        candidates = [i for i in private if i.private]
        allowed = await asyncio.gather(*(self.may_see(i, user_id) for i in candidates))
        return Audience(user_id, frozenset(i.id for i, ok in zip(candidates, allowed, strict=True) if ok))

    async def hidden_from(self, user_id: str, private: Sequence[Incident]) -> frozenset[int]:
        """The ids of the incidents among `private` that `user_id` may not see."""
        audience = await self.audience(user_id, private)
        return frozenset(i.id for i in private if not audience.may_see(i))

    def forget(self, channel_id: str) -> None:
        """Membership changed (someone joined, left or was invited): ask Slack next time."""
        self._members.pop(channel_id, None)

    async def _members_of(self, channel_id: str) -> frozenset[str]:
        now = self.monotonic()
        cached = self._members.get(channel_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        members = frozenset(await self.slack.channel_members(channel_id))
        if len(self._members) >= MAX_REMEMBERED_CHANNELS:
            self._members = {k: v for k, v in self._members.items() if now - v[0] < self.ttl}
        self._members[channel_id] = (now, members)
        return members


async def hidden_from(visibility: Visibility | None, user_id: str, private: Sequence[Incident]) -> frozenset[int]:
    """The ids of the incidents among `private` that `user_id` may not see; without a way to ask Slack
    (no `visibility`), every private one."""
    if visibility is None:
        return frozenset(i.id for i in private if i.private)
    return await visibility.hidden_from(user_id, private)
