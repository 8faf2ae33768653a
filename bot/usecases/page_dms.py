"""Sending a page step's DM to one person: a DM of its own, or, in a storm, a place in that person's digest
DM (bot/domain/page_digests.py), which is posted once and edited as pages join it or are answered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.escalation import Page
from bot.domain.page_digests import joins_digest, window_start
from bot.runtime.coalesce import Coalescer
from bot.slack import blocks
from bot.slack.gateway import SlackGateway, slack_error
from bot.usecases.ports import UnitOfWorkFactory

log = logging.getLogger("bot.usecases.paging")

RETRY_POST_AFTER = 3.0  # seconds: a digest Slack failed to post is not tried again sooner (its pages wait)
DIGEST_EDIT_INTERVAL = 1.0  # seconds between edits of one digest (chat.update is Tier 3: ~50 a minute)


@dataclass
class PageDms:
    """Page DMs, gathered per person in a storm."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    _locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    _dirty: set[int] = field(default_factory=set)
    _refused: dict[int, tuple[float, BaseException]] = field(default_factory=dict)  # digest: when Slack failed it
    _edits: Coalescer[int] = field(init=False)

    def __post_init__(self) -> None:
        """Edits of one digest are coalesced: a storm of joins is a few edits, not one each."""
        self._edits = Coalescer(self._edit, min_interval=DIGEST_EDIT_INTERVAL)

    async def send(
        self, user_id: str, page: Page, dm: tuple[str, blocks.Blocks], *, round: int, tier: int, now: datetime
    ) -> tuple[str, str]:
        """DM `user_id` about a page step (its write-ahead row already stored); the DM's (channel, ts),
        which for a page in a digest is the digest's. Raises when Slack could not be reached."""
        async with self._locks[user_id]:  # one person's pages join their digest one at a time
            async with self.uow() as uow:
                since = window_start(now)
                digest = await uow.pages.open_digest(user_id, since=since)
                recent = 0 if digest else await uow.pages.recent_dms(user_id, since=since, other_than=page.id)
                if not joins_digest(recent_dms=recent, open_digest=digest is not None):
                    await uow.commit()
                    alone = True
                else:
                    alone = False
                    digest = digest or await uow.pages.new_digest(user_id, now=now)
                    await uow.pages.join_digest(
                        digest.id, page_id=page.id, round=round, tier=tier, user_id=user_id, now=now
                    )
                    await uow.commit()
            if alone:
                return await self.slack.dm(user_id, *dm)
            assert digest is not None
            if digest.ts is not None and digest.channel is not None:
                self._dirty.add(digest.id)  # shown at the next flush, a moment from now
                return digest.channel, digest.ts
            return await self._post(digest.id)

    async def _post(self, digest_id: int) -> tuple[str, str]:
        refused = self._refused.get(digest_id)
        if refused is not None and time.monotonic() - refused[0] < RETRY_POST_AFTER:
            raise refused[1]  # Slack just failed this digest's post: the pages joining it wait with it
        async with self.uow(read_only=True) as uow:
            digest = await uow.pages.digest(digest_id)
        assert digest is not None
        try:
            channel, ts = await self.slack.dm(digest.user_id, *blocks.page_digest(digest))
        except Exception as exc:
            self._refused[digest_id] = (time.monotonic(), exc)
            raise
        self._refused.pop(digest_id, None)
        async with self.uow() as uow:
            await uow.pages.digest_posted(digest_id, channel=channel, ts=ts)
            await uow.commit()
        return channel, ts

    async def flush(self) -> None:
        """Show every page that joined a digest since the last flush (one edit per digest)."""
        dirty, self._dirty = self._dirty, set()
        await asyncio.gather(*(self.refresh(d) for d in dirty))

    async def refresh(self, digest_id: int) -> None:
        """Show a digest as its pages are now (coalesced with other requests for it)."""
        try:
            await self._edits.request(digest_id)
        except Exception as exc:  # the next join or answer edits it again
            log.warning("page digest %s was not updated: %s", digest_id, slack_error(exc))

    async def _edit(self, digest_id: int) -> None:
        async with self.uow(read_only=True) as uow:
            digest = await uow.pages.digest(digest_id)
        if digest is None or digest.channel is None or digest.ts is None:
            return
        await self.slack.update_message(digest.channel, digest.ts, *blocks.page_digest(digest))

    async def digests_among(self, sent: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which of these DMs are digests (to refresh rather than replace)."""
        async with self.uow(read_only=True) as uow:
            return await uow.pages.digests_among(sent)
