"""Announcements to a channel in a storm of declares: a post each, or a place in the channel's digest
(bot/domain/announcement_digests.py), which is posted once and edited as incidents join it.

Unlike alert notices, an announcement must go out: `announce` returns only once a post or edit showing
the incident has gone out, and raises otherwise (after taking the incident out of the digest, so a later
edit cannot show it too); the set-up then records the failure and announces it on its own when it
resumes. What each channel was sent lately lives in this process: each replica gathers the declares it
sets up, so two replicas make at worst two digests, never an announcement per incident.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.domain.announcement_digests import AnnouncementDigest, ChannelAnnouncements
from bot.domain.errors import SlackRefused, slack_error
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.domain.slack_values import Blocks
from bot.runtime.coalesce import Coalescer
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack

log = logging.getLogger("bot.usecases.setup")

DIGEST_EDIT_INTERVAL = 2.0  # seconds between edits of one digest (chat.update is Tier 3: ~50 a minute)


@dataclass
class StormAnnouncements:
    """Announcements, gathered per channel in a storm."""

    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    _channels: dict[str, ChannelAnnouncements] = field(default_factory=dict)
    _posting: dict[AnnouncementDigest, asyncio.Event] = field(default_factory=dict)
    _edits: Coalescer[AnnouncementDigest] = field(init=False)

    def __post_init__(self) -> None:
        """Edits of one digest are coalesced: a storm of declares is a few edits, not one each."""
        self._edits = Coalescer(self._edit, min_interval=DIGEST_EDIT_INTERVAL)

    async def announce(self, channel: str, incident: Incident, message: tuple[str, Blocks]) -> None:
        """Announce `incident` in `channel`: its own post (`message`), or a place in the channel's digest.
        Returns once a message showing it has gone out; raises if none could."""
        storm = self._channels.setdefault(channel, ChannelAnnouncements())
        placed = storm.place(incident, self.clock())  # no await before it: incidents are placed in turn
        digest = placed.digest
        if digest is None:
            await self.slack.post(channel, *message)
            return
        if placed.opened:
            await self._post(storm, channel, digest)
        else:
            await self._edits.request(digest)
        if incident.id not in digest.shown:
            digest.withdraw(incident.id)
            raise SlackRefused("digest_not_updated", retryable=True, message="the storm's digest was not updated")

    async def _post(self, storm: ChannelAnnouncements, channel: str, digest: AnnouncementDigest) -> None:
        self._posting[digest] = posted = asyncio.Event()
        showing, message = digest.showing(), self.messages.announcement_digest(digest, self.policy)
        try:
            digest.where = await self.slack.post_to_edit(channel, *message)
            digest.shown = showing
        except Exception:
            storm.drop(digest)  # the next declare opens another
            raise
        finally:
            posted.set()
            del self._posting[digest]
        log.info("storm of declares: %d incidents gathered in one message in %s", len(showing), channel)
        if digest.showing() != showing:  # incidents joined while it was being posted
            await self._edits.request(digest)

    async def _edit(self, digest: AnnouncementDigest) -> None:
        posting = self._posting.get(digest)
        if posting is not None:  # joined while the digest was being posted: edit it once it is
            await posting.wait()
        if digest.where is None:  # its post failed: those who joined it announce on their own later
            return
        showing = digest.showing()
        try:
            await self.slack.update_message(*digest.where, *self.messages.announcement_digest(digest, self.policy))
        except Exception as exc:  # those it would have shown are told, and withdraw
            log.warning("announcement digest in %s was not updated: %s", digest.where[0], slack_error(exc))
            return
        digest.shown = showing
