"""Answering a page: acknowledge (one conditional UPDATE; the page stops escalating), decline, cancel,
and keeping the page's DMs showing what became of it. Part of Pager (paging.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.durations import format_duration
from bot.domain.errors import NotFoundError, UserError
from bot.domain.escalation import ACKNOWLEDGED, Notification, Page, Plan
from bot.domain.incidents import TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.timer_results import Notified
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.slack import blocks
from bot.slack.gateway import ReplyTarget, SlackGateway, slack_error
from bot.usecases.page_dms import PageDms
from bot.usecases.ports import Clock, UnitOfWorkFactory

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

log = logging.getLogger("bot.usecases.paging")

ALL_AT_ONCE = 8  # pages acknowledged together by Acknowledge all, at a time


class PageAnswers:
    """What people do with a page once it reached them (mixed into Pager, which provides the fields)."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    policy: Policy
    clock: Clock
    metrics: Metrics
    wake: Callable[[], None]
    dms: PageDms

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
            await uow.commit()
        if page is None:
            raise NotFoundError("That page no longer exists.")
        if renewed and reopens_at is not None:
            until = blocks.slack_date(reopens_at)
            await self.slack.reply(
                reply_to, f"Acknowledged again: unless it is resolved, the page escalates again {until}."
            )
            channel_id = incident.channel_id if incident else None
            await self._settle_dms(page, delivered(notified), channel_id)
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
        calls = [self._settle_dms(page, delivered(notified), channel_id)]
        if channel_id:
            calls.append(self.slack.invite(channel_id, [actor]))
            calls.append(
                self._post(channel_id, f":white_check_mark: <@{actor}> acknowledged the page; escalation stopped.")
            )
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
            notified = await uow.pages.notifications(page_id)
            await uow.commit()
        if page is not None and (stopped.cancelled or stopped.timeouts_stopped):  # buttons go, the DMs say why
            await self._settle_dms(page, delivered(notified), None, reason=reason)
        return bool(stopped.cancelled)

    async def settle_stopped(self, page_ids: Sequence[int], *, reason: str) -> None:
        """Pages stopped along with something else (their incident was resolved): their DMs say why."""
        for page_id in page_ids:
            async with self.uow(read_only=True) as uow:
                page = await uow.pages.get(page_id)
                notified = await uow.pages.notifications(page_id)
            if page is not None:
                await self._settle_dms(page, delivered(notified), None, reason=reason)

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

    async def _settle_dms(
        self, page: Page, sent: Sequence[Notified], channel_id: str | None, *, reason: str = ""
    ) -> None:
        if page.acknowledged_by:
            outcome = f":white_check_mark: Acknowledged by <@{page.acknowledged_by}>."
        else:
            outcome = f"This page was {page.status}" + (f": {reason}." if reason else ".")
        reopens = (page.id, page.next_step_at) if page.status == ACKNOWLEDGED and page.next_step_at else None
        await self._update_dms(page, sent, channel_id, outcome=outcome, reopens=reopens)

    async def _update_dms(
        self,
        page: Page,
        sent: Sequence[Notified],
        channel_id: str | None,
        *,
        outcome: str,
        reopens: tuple[int, datetime] | None = None,
    ) -> None:
        text, body = blocks.page_dm_settled(
            title=page.title, severity=page.severity, channel_id=channel_id, outcome=outcome, reopens=reopens
        )
        messages = [(c, ts) for _, c, ts in sent if c and ts]
        digests = await self.dms.digests_among(messages)  # a digest DM is shown anew, not replaced
        updates = [self.slack.update_message(c, ts, text, body) for c, ts in messages if (c, ts) not in digests]
        for result in await asyncio.gather(
            *updates, *(self.dms.refresh(d) for d in set(digests.values())), return_exceptions=True
        ):
            if isinstance(result, BaseException):
                log.warning("page %s: a DM was not updated: %s", page.id, slack_error(result))

    async def _post(self, channel: str, text: str) -> None:
        try:
            await self.slack.post(channel, text, [blocks.section(text)])
        except Exception as exc:  # paging goes on even when a channel post fails or is delayed
            log.warning("paging notice to %s failed: %s", channel, slack_error(exc))


def timeout_text(plan: Plan) -> str:
    return format_duration(plan.ack_timeout) if plan.ack_timeout else "its timeout"


def delivered(notified: Sequence[Notification]) -> list[Notified]:
    """The DMs a page's notifications left (those that failed left none), to update when it settles."""
    return [(n.user_id, n.channel, n.ts) for n in notified if n.channel]


async def require_recipient(uow: UnitOfWork, page_id: int, actor: str) -> None:
    """A page's buttons answer only for the people it paged (a crafted click names someone else's page)."""
    if actor not in {n.user_id for n in await uow.pages.notifications(page_id)}:
        raise UserError("That page went to someone else; only the people it paged can answer it.")
