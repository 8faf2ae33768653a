"""The fan-out after a change commits: post the notice to the incident channel (and, for updates,
resolve and reopen, the severity's stakeholder channels) through the outbox, tell the author when Slack's
pace will delay it, then bring the header, topic and App Home up to date (coalesced)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.errors import slack_error
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.outbox import Outbox
from bot.usecases.ports import Slack

log = logging.getLogger(__name__)

# A post waiting longer than this behind the channel's pace is worth telling its author about.
TELL_WHEN_DELAYED_SECONDS = 3.0


@dataclass
class Announcer:
    """Posts a change's notice where it belongs, then refreshes the views of the incident."""

    slack: Slack
    policy: Policy
    header: HeaderKeeper
    home: HomeKeeper
    outbox: Outbox

    def channels(
        self, incident: Incident, *, stakeholders: bool = False, upgraded_from: str | None = None
    ) -> list[str]:
        """The incident's own channel, then (for updates, resolve, reopen) its severity's stakeholders, or
        (`upgraded_from` a less severe severity) those the old severity did not include. A private
        incident's news stays in its own channel."""
        own = [incident.channel_id] if incident.channel_id else []
        if incident.private:
            return own
        if stakeholders:
            return own + self.policy.stakeholder_channels(incident.severity)
        if upgraded_from is not None and self.policy.rank(incident.severity) < self.policy.rank(upgraded_from):
            already = set(self.policy.stakeholder_channels(upgraded_from)) - {self.policy.broadcast_channel}
            return own + [c for c in self.policy.stakeholder_channels(incident.severity) if c not in already]
        return own

    async def tell(
        self,
        incident: Incident,
        message: tuple[str, list[dict[str, Any]]],
        channels: list[str],
        *,
        actor_reply: ReplyTarget | None = None,
        also: Sequence[Awaitable[Any]] | None = None,
        author: str | None = None,
    ) -> None:
        """After a change commits: post `message` to `channels` (with any other calls), then refresh views.
        A post Slack refuses for now goes to the outbox and is sent later; `author` hears if it never is."""
        text, body = message
        posts = (self.outbox.post(c, text, body, incident_id=incident.id, author=author) for c in channels)
        steps = [*(also or []), *posts]
        await self.run(steps, incident, actor_reply)
        await self.refresh(incident)

    async def run(self, steps: list[Awaitable[Any]], incident: Incident, actor_reply: ReplyTarget | None) -> None:
        """Run Slack calls at once; tell the author when their post waits on Slack's pace, log failures."""
        if actor_reply is not None and incident.channel_id:
            wait = self.slack.wait_before_post(incident.channel_id)
            if wait > TELL_WHEN_DELAYED_SECONDS:
                await self.slack.reply(
                    actor_reply,
                    f":hourglass: Slack allows about one message a second per channel; "
                    f"this will appear in {incident.reference} in about {round(wait)}s.",
                )
        for result in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("%s: a Slack call failed: %s", incident.reference, slack_error(result))

    async def refresh(self, incident: Incident) -> None:
        await asyncio.gather(self.header.refresh(incident.id), self.home.refresh(incident.team_id))
