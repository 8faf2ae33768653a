"""Who may see a private incident: the members of its channel, as Slack says (conversations.members),
remembered for a short while. Never the request's word: a payload can claim any channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.domain.errors import slack_error
from bot.domain.incidents import Incident
from bot.domain.privacy import Audience, is_insider
from bot.runtime.member_cache import MemberCache
from bot.usecases.ports import Slack

log = logging.getLogger(__name__)


@dataclass
class Visibility:
    """Answers "may this person see this incident?" for private incidents (public ones: always)."""

    slack: Slack
    # Shared with the gateway, which forgets a channel as soon as it invites someone to it.
    members: MemberCache = field(default_factory=MemberCache)

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
        self.members.forget(channel_id)

    async def _members_of(self, channel_id: str) -> frozenset[str]:
        cached = self.members.get(channel_id)
        if cached is not None:
            return cached
        members = frozenset(await self.slack.channel_members(channel_id))
        self.members.put(channel_id, members)
        return members


async def hidden_from(visibility: Visibility | None, user_id: str, private: Sequence[Incident]) -> frozenset[int]:
    """The ids of the incidents among `private` that `user_id` may not see; without a way to ask Slack
    (no `visibility`), every private one."""
    if visibility is None:
        return frozenset(i.id for i in private if i.private)
    return await visibility.hidden_from(user_id, private)
