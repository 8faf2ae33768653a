"""Alert notices to a channel: a post each, or, in a storm, a place in the channel's digest
(bot/domain/notice_digests.py), which is posted once and edited as notices join it.

What each channel was sent lately lives in this process, not in the database: alert notices are best
effort (a failed one is a warning, never retried from the outbox), and so is their grouping. A restart
mid-storm starts a new digest, and each replica gathers the notices of the webhooks it receives: with two
replicas a storm makes at worst two digests (after each one's first few notices), never a post per alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.domain.errors import slack_error
from bot.domain.notice_digests import AlertNotice, ChannelNotices, NoticeDigest
from bot.domain.policy import Policy
from bot.runtime import worker_slot
from bot.runtime.coalesce import Coalescer
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack

log = logging.getLogger("bot.usecases.alert_intake")

DIGEST_EDIT_INTERVAL = 2.0  # seconds between edits of one digest (chat.update is Tier 3: ~50 a minute)


@dataclass
class AlertNotices:
    """Alert notices, gathered per channel in a storm."""

    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    _channels: dict[str, ChannelNotices] = field(default_factory=dict)
    _edits: Coalescer[NoticeDigest] = field(init=False)

    def __post_init__(self) -> None:
        """Edits of one digest are coalesced: a storm of joins is a few edits, not one each."""
        self._edits = Coalescer(self._edit, min_interval=DIGEST_EDIT_INTERVAL)

    async def send(self, channel: str | None, notice: AlertNotice) -> None:
        """Tell `channel` of a new alert group: a post of its own, or a place in the channel's digest.
        Best effort: a failure is one warning, and the page goes on regardless."""
        if channel is None:
            log.warning("alert %r had nowhere to be posted (no broadcast channel or route channel)", notice.title)
            return
        notices = self._channels.setdefault(channel, ChannelNotices())
        placed = notices.place(notice, self.clock())  # no await before it: notices are placed in turn
        try:
            if placed.digest is None:
                await self.slack.post(channel, *self.messages.alert_notice(notice))
            elif placed.opened:
                await self._post(notices, channel, placed.digest)
            else:
                worker_slot.give_back()  # waiting for the next edit is no work for a worker
                await self._edits.request(placed.digest)
        except Exception as exc:  # the page goes on even when the notice cannot be posted
            log.warning("alert notice to %s failed: %s", channel, slack_error(exc))

    async def _post(self, notices: ChannelNotices, channel: str, digest: NoticeDigest) -> None:
        shown = digest.total
        try:
            digest.where = await self.slack.post_to_edit(channel, *self.messages.alert_digest(digest, self.policy))
        except Exception:
            notices.drop(digest)  # the next notice opens another
            raise
        if digest.total > shown:  # notices joined while it was being posted
            await self._edits.request(digest)

    async def _edit(self, digest: NoticeDigest) -> None:
        if digest.where is None:  # not posted yet: its poster edits it once it is
            return
        try:
            await self.slack.update_message(*digest.where, *self.messages.alert_digest(digest, self.policy))
        except Exception as exc:  # one line per failed edit; the next notice to join edits it again
            log.warning("alert digest in %s was not updated: %s", digest.where[0], slack_error(exc))
