"""A page's DMs: sending a step's DM to one person (a DM of its own, or, in a storm, a place in that
person's digest DM (bot/domain/page_digests.py), which is posted once and edited as pages join it or are
answered), and showing in the DMs sent what became of the page. Part of paging (paging.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.errors import slack_error
from bot.domain.escalation import ACKNOWLEDGED, Notification, Page
from bot.domain.page_digests import Digest, joins_digest, window_start
from bot.domain.slack_values import Blocks
from bot.domain.timer_results import Notified
from bot.runtime.coalesce import Coalescer
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Slack, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.paging")

RETRY_POST_AFTER = 3.0  # seconds: a digest Slack failed to post is not tried again sooner (its pages wait)
DIGEST_EDIT_INTERVAL = 1.0  # seconds between edits of one digest (chat.update is Tier 3: ~50 a minute)
EDIT_RETRY_DELAYS = (2.0, 5.0, 10.0, 30.0, 60.0, 120.0)  # seconds: a refused digest edit is tried again


@dataclass(frozen=True, slots=True)
class _Join:
    """A page step's DM to one person, waiting to be placed: alone, or in their digest."""

    page: Page
    dm: tuple[str, Blocks]
    round: int
    tier: int
    now: datetime
    placed: asyncio.Future[tuple[str, str]]


def _settle(join: _Join, outcome: tuple[str, str] | BaseException) -> None:
    if join.placed.done():
        return
    if isinstance(outcome, BaseException):
        join.placed.set_exception(outcome)
    else:
        join.placed.set_result(outcome)


@dataclass
class PageDms:
    """Page DMs: gathered per person in a storm, and settled (their buttons gone) once the page is answered."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    _locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    _waiting: defaultdict[str, list[_Join]] = field(default_factory=lambda: defaultdict(list))
    _dirty: set[int] = field(default_factory=set)
    _retrying: dict[int, asyncio.Task[None]] = field(default_factory=dict)  # digest edits tried again later
    _refused: dict[int, tuple[float, BaseException]] = field(default_factory=dict)  # digest: when Slack failed it
    _edits: Coalescer[int] = field(init=False)

    def __post_init__(self) -> None:
        """Edits of one digest are coalesced: a storm of joins is a few edits, not one each."""
        self._edits = Coalescer(self._edit, min_interval=DIGEST_EDIT_INTERVAL)

    async def send(
        self, user_id: str, page: Page, dm: tuple[str, Blocks], *, round: int, tier: int, now: datetime
    ) -> tuple[str, str]:
        """DM `user_id` about a page step (its write-ahead row already stored); the DM's (channel, ts),
        which for a page in a digest is the digest's. Raises when Slack could not be reached.

        One person's pages are placed one batch at a time: the pages that arrive while a batch is being
        placed wait for it and are then placed together, in one transaction, so sixty pages to one person
        in a storm cost a few transactions, not sixty in a row."""
        join = _Join(page, dm, round, tier, now, asyncio.get_running_loop().create_future())
        self._waiting[user_id].append(join)
        async with self._locks[user_id]:
            batch = self._waiting.pop(user_id, [])  # empty if an earlier holder placed this page already
            if batch:
                await self._place(user_id, batch)
        return await join.placed

    async def _place(self, user_id: str, batch: list[_Join]) -> None:
        """Decide, in one transaction, which of `batch` go out alone and which join the person's digest;
        then send the lone DMs and show the digest. Every join's future gets its DM or its failure."""
        try:
            async with self.uow() as uow:
                since = window_start(batch[0].now)
                digest = await uow.pages.open_digest(user_id, since=since)
                ids = [j.page.id for j in batch]
                recent = 0 if digest else await uow.pages.recent_dms(user_id, since=since, other_than=ids)
                alone: list[_Join] = []
                joined: defaultdict[int, list[_Join]] = defaultdict(list)
                shown_in: dict[int, Digest] = {}
                for join in batch:
                    if not joins_digest(recent_dms=recent, open_digest=digest is not None):
                        alone.append(join)
                        recent += 1
                        continue
                    # the open one (it may have filled up with this batch), else a new one
                    digest = await uow.pages.open_digest(user_id, since=since) or await uow.pages.new_digest(
                        user_id, now=join.now
                    )
                    await uow.pages.join_digest(
                        digest.id, page_id=join.page.id, round=join.round, tier=join.tier, user_id=user_id, now=join.now
                    )
                    joined[digest.id].append(join)
                    shown_in[digest.id] = digest
                await uow.commit()
        except Exception as exc:  # nothing placed: every page of the batch fails alike (its step is retried)
            for join in batch:
                _settle(join, exc)
            return
        sent = await asyncio.gather(*(self.slack.dm(user_id, *j.dm) for j in alone), return_exceptions=True)
        for join, outcome in zip(alone, sent, strict=True):
            _settle(join, outcome)
        for digest_id, joins in joined.items():
            shown = shown_in[digest_id]
            where: tuple[str, str] | BaseException
            if shown.ts is not None and shown.channel is not None:
                self._dirty.add(digest_id)  # shown at the next flush, a moment from now
                where = (shown.channel, shown.ts)
            else:
                try:
                    where = await self._post(digest_id)
                except Exception as exc:
                    where = exc
            for join in joins:
                _settle(join, where)

    async def _post(self, digest_id: int) -> tuple[str, str]:
        refused = self._refused.get(digest_id)
        if refused is not None and time.monotonic() - refused[0] < RETRY_POST_AFTER:
            raise refused[1]  # Slack just failed this digest's post: the pages joining it wait with it
        async with self.uow(read_only=True) as uow:
            digest = await uow.pages.digest(digest_id)
        assert digest is not None
        try:
            channel, ts = await self.slack.dm(digest.user_id, *self.messages.page_digest(digest))
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
        """Show a digest as its pages are now (coalesced with other requests for it). An edit Slack refuses
        (a 429 past its retries in a storm, say) is tried again later by itself: pages that joined the
        digest must show in it even when no other page comes along to edit it again."""
        try:
            await self._edits.request(digest_id)
        except Exception as exc:
            log.warning("page digest %s was not updated (%s); trying again shortly", digest_id, slack_error(exc))
            if digest_id not in self._retrying:
                task = asyncio.get_running_loop().create_task(self._edit_again(digest_id))
                self._retrying[digest_id] = task
                task.add_done_callback(lambda _: self._retrying.pop(digest_id, None))

    async def _edit_again(self, digest_id: int) -> None:
        for delay in EDIT_RETRY_DELAYS:
            await asyncio.sleep(delay)
            try:
                await self._edits.request(digest_id)
            except Exception as exc:
                log.warning("page digest %s still not updated: %s", digest_id, slack_error(exc))
                continue
            log.info("page digest %s updated after Slack refused an edit", digest_id)
            return

    async def _edit(self, digest_id: int) -> None:
        async with self.uow(read_only=True) as uow:
            digest = await uow.pages.digest(digest_id)
        if digest is None or digest.channel is None or digest.ts is None:
            return
        await self.slack.update_message(digest.channel, digest.ts, *self.messages.page_digest(digest))

    async def digests_among(self, sent: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which of these DMs are digests (to refresh rather than replace)."""
        async with self.uow(read_only=True) as uow:
            return await uow.pages.digests_among(sent)

    async def settle(self, page: Page, sent: Sequence[Notified], channel_id: str | None, *, reason: str = "") -> None:
        """Show in the DMs `sent` what became of the page: who acknowledged it, or why it stopped."""
        if page.acknowledged_by:
            outcome = f":white_check_mark: Acknowledged by <@{page.acknowledged_by}>."
        else:
            outcome = f"This page was {page.status}" + (f": {reason}." if reason else ".")
        reopens = (page.id, page.next_step_at) if page.status == ACKNOWLEDGED and page.next_step_at else None
        await self.show_outcome(page, sent, channel_id, outcome=outcome, reopens=reopens)

    async def show_outcome(
        self,
        page: Page,
        sent: Sequence[Notified],
        channel_id: str | None,
        *,
        outcome: str,
        reopens: tuple[int, datetime] | None = None,
    ) -> None:
        """Replace the DMs `sent` with the page and `outcome` (a digest DM is shown anew instead)."""
        text, body = self.messages.page_dm_settled(
            title=page.title, severity=page.severity, channel_id=channel_id, outcome=outcome, reopens=reopens
        )
        messages = [(c, ts) for _, c, ts in sent if c and ts]
        digests = await self.digests_among(messages)  # a digest DM is shown anew, not replaced
        updates = [self.slack.update_message(c, ts, text, body) for c, ts in messages if (c, ts) not in digests]
        for result in await asyncio.gather(
            *updates, *(self.refresh(d) for d in set(digests.values())), return_exceptions=True
        ):
            if isinstance(result, BaseException):
                log.warning("page %s: a DM was not updated: %s", page.id, slack_error(result))


def delivered(notified: Sequence[Notification]) -> list[Notified]:
    """The DMs a page's notifications left (those that failed left none), to update when it settles."""
    return [(n.user_id, n.channel, n.ts) for n in notified if n.channel]
