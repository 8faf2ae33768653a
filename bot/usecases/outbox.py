"""Posts that survive Slack's errors: a channel post Slack refuses for now (5xx, rate limits it kept up,
unreachable) is kept in the outbox table and sent again later by the timer tick, with backoff; one that
finally cannot be sent is dropped with a word to its author, never only a log line."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.errors import retryable, slack_error
from bot.domain.slack_values import Blocks
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.record_ports import WaitingPost

log = logging.getLogger(__name__)

FIRST_RETRY: timedelta = timedelta(seconds=15)
MAX_ATTEMPTS = 8  # 15 s, 30 s, 1 min … about an hour in all
LEASE = timedelta(seconds=60)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try, after `attempts` tries."""
    return FIRST_RETRY * int(2 ** max(0, attempts - 1))


@dataclass
class Outbox:
    """Posting with a durable second chance."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    clock: Clock

    async def post(
        self,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        *,
        incident_id: int | None = None,
        author: str | None = None,
        marker: str | None = None,
    ) -> str | None:
        """Post now and return its ts; if Slack refuses for now, keep it to send later and return None.
        Other refusals (not_in_channel, invalid_blocks…) raise as before."""
        try:
            return await self.slack.post(channel, text, blocks)
        except Exception as exc:
            if not retryable(exc):
                raise
            error = slack_error(exc)
        now = self.clock()
        async with self.uow() as uow:
            await uow.outbox.add(
                channel=channel,
                text=text,
                blocks=blocks,
                due=now + backoff(1),
                now=now,
                error=error,
                incident_id=incident_id,
                author=author,
                marker=marker,
            )
            await uow.commit()
        log.warning("post to %s delayed by Slack (%s); it is kept and will be sent again", channel, error)
        return None

    async def send_due(self, *, token: str) -> int:
        """Send every waiting post that is due (the timer tick calls this); how many were claimed."""
        now = self.clock()
        async with self.uow() as uow:
            waiting = await uow.outbox.claim(now=now, lease=LEASE, token=token, limit=BATCH)
            await uow.commit()
        await asyncio.gather(*(self._send(post, token) for post in waiting))
        return len(waiting)

    async def _send(self, post: WaitingPost, token: str) -> None:
        try:
            if not await self._already_there(post):
                await self.slack.post(post.channel, post.text, post.blocks)
        except Exception as exc:
            error = slack_error(exc)
            if retryable(exc) and post.attempts < MAX_ATTEMPTS:
                async with self.uow() as uow:
                    due = self.clock() + backoff(post.attempts + 1)
                    await uow.outbox.again_later(post.id, token=token, due=due, error=error)
                    await uow.commit()
                log.warning("delayed post to %s refused again (%s); next try later", post.channel, error)
                return
            await self._give_up(post, token, error)
            return
        async with self.uow() as uow:
            await uow.outbox.sent(post.id, token=token)
            await uow.commit()
        log.info("delayed post to %s sent after %d tries", post.channel, post.attempts + 1)

    async def _already_there(self, post: WaitingPost) -> bool:
        """A marked post that may have landed before its answer was lost is looked for first."""
        bot = self.slack.bot_user_id
        if post.marker is None or bot is None:
            return False
        try:
            return await self.slack.find_own_message(post.channel, post.marker, author=bot) is not None
        except Exception as exc:  # history unreadable (not a member): post, at worst a second copy
            log.info("could not look for an earlier copy in %s: %s", post.channel, slack_error(exc))
            return False

    async def _give_up(self, post: WaitingPost, token: str, error: str) -> None:
        async with self.uow() as uow:
            await uow.outbox.sent(post.id, token=token)
            await uow.commit()
        log.warning("gave up posting to %s after %d tries (%s)", post.channel, post.attempts + 1, error)
        if post.author is None:
            return
        note = (
            f":warning: Tocsin could not post this to {self._where(post.channel)} after {post.attempts + 1} tries "
            f"(Slack said {error}):\n{_quote(post.text)}"
        )
        try:
            await self.slack.dm(post.author, note)
        except Exception as exc:
            log.warning("could not tell %s that a post was dropped: %s", post.author, slack_error(exc))

    def _where(self, channel: str) -> str:
        return self.messages.escape(channel) if channel.startswith("#") else f"<#{channel}>"


def _quote(text: str, limit: int = 1500) -> str:
    cut = text if len(text) <= limit else text[:limit] + "…"
    return "\n".join(f">{line}" for line in cut.splitlines() or [""])
