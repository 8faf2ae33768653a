"""Answering a page: acknowledge (one conditional UPDATE; the page stops escalating), acknowledge a
digest's pages all at once, decline, cancel, and the DMs of pages stopped along with their incident.
Part of paging (paging.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import NotFoundError, UserError, slack_error
from bot.domain.escalation import ACKNOWLEDGED, Page
from bot.domain.events import PageAcknowledged, PageCancelled, Subject, new_event
from bot.domain.incidents import TimelineEntry, TimelineKind
from bot.domain.slack_values import ReplyTarget
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.usecases.message_ports import Messages
from bot.usecases.page_dms import PageDms, delivered
from bot.usecases.page_notices import post_notice
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.paging")

ALL_AT_ONCE = 8  # pages acknowledged together by Acknowledge all, at a time


@dataclass
class PageAnswers:
    """What people do with a page once it reached them, and what its DMs then show."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    clock: Clock
    metrics: Metrics
    dms: PageDms
    wake: Callable[[], None]  # asks the timers to tick now (a declined page's next tier is due)

    async def get(self, page_id: int) -> Page:
        """A page by id."""
        async with self.uow(read_only=True) as uow:
            page = await uow.pages.get(page_id)
        if page is None:
            raise NotFoundError("That page no longer exists.")
        return page

    async def acknowledge_all(
        self, digest_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime | None = None
    ) -> None:
        """Acknowledge every page of a digest DM that paged `actor` and is still escalating."""
        async with self.uow(read_only=True) as uow:
            page_ids = await uow.pages.pages_in_digest(digest_id, user_id=actor)
        if not page_ids:
            await self.slack.reply(reply_to, "Nothing in that list is escalating any more.")
            return
        at = at or self.clock()
        limit = asyncio.Semaphore(ALL_AT_ONCE)

        async def one(page_id: int) -> bool:
            async with limit:
                return await self.acknowledge(page_id, actor=actor, reply_to=reply_to, at=at, quiet=True)

        taken = sum(await asyncio.gather(*(one(p) for p in page_ids)))
        event(log, "%d pages of digest %s acknowledged by %s", taken, digest_id, actor, actor=actor)
        await self.slack.reply(reply_to, f":white_check_mark: Acknowledged {taken} of the pages; escalation stopped.")

    async def acknowledge(
        self, page_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime | None = None, quiet: bool = False
    ) -> bool:
        """Stop the escalation, join the responder to the channel, and show it everywhere; whether this was
        the page's first acknowledgement. `quiet`: no reply when someone else was first (Acknowledge all)."""
        now = at or self.clock()
        async with self.uow() as uow:
            await require_recipient(uow, page_id, actor)
            before = await uow.pages.get(page_id)
            reopens_at = before.plan.reopens_at(now) if before else None
            first = await uow.pages.acknowledge(page_id, user_id=actor, now=now, reopens_at=reopens_at)
            renewed = False
            if not first and reopens_at is not None and before and before.status == ACKNOWLEDGED:
                renewed = await uow.pages.renew_acknowledgement(page_id, reopens_at=reopens_at)
            page = await uow.pages.get(page_id)
            incident = await uow.incidents.get(page.incident_id) if page and page.incident_id else None
            incident_first = False
            incident_source = page.source if page else "page"
            if first and incident:
                incident_first = await uow.incidents.acknowledge(incident.id, user_id=actor, now=now)
                await uow.incidents.record(
                    incident.id,
                    TimelineEntry(TimelineKind.ACKNOWLEDGED, now, actor, f"Page acknowledged ({incident_source})"),
                )
            if renewed and incident:
                note = f"Acknowledgement renewed by <@{actor}>"
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.ACKNOWLEDGED, now, actor, note))
            notified = await uow.pages.notifications(page_id)
            if first and page is not None:
                subject = Subject(page.incident_id, page_id=page_id)
                await uow.events.append(
                    new_event(PageAcknowledged(page_id=page_id), subject=subject, actor=actor, at=now)
                )
            await uow.commit()
        if page is None:
            raise NotFoundError("That page no longer exists.")
        if renewed and reopens_at is not None:
            until = self.messages.slack_date(reopens_at)
            await self.slack.reply(
                reply_to, f"Acknowledged again: unless it is resolved, the page escalates again {until}."
            )
            channel_id = incident.channel_id if incident else None
            await self.dms.settle(page, delivered(notified), channel_id)
            return False
        if incident_first and incident is not None:  # the incident's first acknowledgement: time to acknowledge
            seconds = max(0.0, (now - incident.declared_at).total_seconds())
            self.metrics.time_to_acknowledge.labels(incident.severity).observe(seconds)
        if not first:
            who = f"<@{page.acknowledged_by}>" if page.acknowledged_by else "nobody"
            state = "acknowledged by " + who if page.status == "acknowledged" else page.status
            if not quiet:
                await self.slack.reply(reply_to, f"That page was already {state}.")
            return False
        reference = incident.reference if incident else None
        event(log, "page %s acknowledged by %s", page_id, actor, incident=reference, actor=actor, page=page_id)
        channel_id = incident.channel_id if incident else None
        calls = [self.dms.settle(page, delivered(notified), channel_id)]
        if channel_id:
            calls.append(self.slack.invite(channel_id, [actor]))
            acknowledged = f":white_check_mark: <@{actor}> acknowledged the page; escalation stopped."
            calls.append(post_notice(self.slack, self.messages, channel_id, acknowledged))
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("page %s acknowledged, but a Slack call failed: %s", page_id, slack_error(result))
        return True

    async def cancel(self, page_id: int, *, reason: str) -> bool:
        """Stop a page (its alerts resolved): cancelled if nobody acknowledged it, its ack timeout stopped
        if someone did; its DMs say so. False when it was not escalating."""
        now = self.clock()
        async with self.uow() as uow:
            stopped = await uow.pages.cancel(page_id)
            page = await uow.pages.get(page_id)
            if stopped.cancelled and page and page.incident_id:
                note = f"Page cancelled: {reason}"
                await uow.incidents.record(page.incident_id, TimelineEntry(TimelineKind.PAGE, now, None, note))
            if stopped.cancelled and page:
                subject = Subject(page.incident_id, page_id=page_id)
                cancelled = PageCancelled(page_id=page_id, reason=reason)
                await uow.events.append(new_event(cancelled, subject=subject, actor=None, at=now))
            notified = await uow.pages.notifications(page_id)
            await uow.commit()
        if page is not None and (stopped.cancelled or stopped.timeouts_stopped):  # buttons go, the DMs say why
            await self.dms.settle(page, delivered(notified), None, reason=reason)
        return bool(stopped.cancelled)

    async def settle_stopped(self, page_ids: Sequence[int], *, reason: str) -> None:
        """Pages stopped along with something else (their incident was resolved): their DMs say why."""
        for page_id in page_ids:
            async with self.uow(read_only=True) as uow:
                page = await uow.pages.get(page_id)
                notified = await uow.pages.notifications(page_id)
            if page is not None:
                await self.dms.settle(page, delivered(notified), None, reason=reason)

    async def decline(self, page_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime | None = None) -> None:
        """Pass the page on: the next tier is notified now."""
        now = at or self.clock()
        async with self.uow() as uow:
            await require_recipient(uow, page_id, actor)
            moved = await uow.pages.escalate_now(page_id, now=now)
            page = await uow.pages.get(page_id)
            if moved and page and page.incident_id:
                await uow.incidents.record(
                    page.incident_id, TimelineEntry(TimelineKind.PAGE, now, actor, "Page declined")
                )
            await uow.commit()
        if not moved:
            await self.slack.reply(reply_to, "That page isn't escalating any more.")
            return
        event(log, "page %s declined by %s; escalating now", page_id, actor, page=page_id, actor=actor)
        await self.slack.reply(reply_to, "Declined: the next step of the escalation is being notified now.")
        self.wake()


async def require_recipient(uow: UnitOfWork, page_id: int, actor: str) -> None:
    """A page's buttons answer only for the people it paged (a crafted click names someone else's page)."""
    if actor not in {n.user_id for n in await uow.pages.notifications(page_id)}:
        raise UserError("That page went to someone else; only the people it paged can answer it.")
