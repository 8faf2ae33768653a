"""A page's steps, the timer's side of paging: notify each tier in turn until someone acknowledges, repeat,
give up loudly; and re-open a page whose acknowledgement timed out. Part of paging (paging.py).

Steps are fired by the timer tick (bot/entrypoints/timers.py) from due times stored on the page; acknowledging is
one conditional UPDATE, so an acknowledgement racing a step leaves the page acknowledged and nothing
escalating, with the step already sent shown as such.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.durations import format_duration
from bot.domain.errors import retryable, slack_error
from bot.domain.escalation import ACKNOWLEDGED, Page, Plan, Tier, next_step, targets, total_steps
from bot.domain.incidents import TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.timer_results import AckTimedOut, Notified, PageDeferred, PageStepped, Released, TimerResult
from bot.runtime.group_commit import GroupCommit
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.usecases.directory import UserDirectory
from bot.usecases.hooks import ContactPlanner, TierRotation
from bot.usecases.message_ports import Messages
from bot.usecases.page_dms import PageDms, delivered
from bot.usecases.page_notices import post_notice
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.paging")

STEP_RETRY = timedelta(seconds=5)  # a step none of whose DMs reached Slack is tried again this soon


@dataclass(frozen=True, slots=True)
class Expected:
    """Whom a step is about to page, written ahead of its DMs."""

    page_id: int
    round: int
    tier: int
    users: tuple[str, ...]
    now: datetime


@dataclass
class PageSteps:
    """Sending a page's due step (or re-opening it), then finishing once the tick has recorded it."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    metrics: Metrics
    dms: PageDms
    wake: Callable[[], None]  # asks the timers to tick now
    directory: UserDirectory | None = None  # whose the users named by e-mail are (shared, so its cache is)
    contacts: ContactPlanner | None = None  # each paged person's own contact rules, inside their turn
    rotation: TierRotation | None = None  # round-robin tiers: one target per page, in turn
    _expected: GroupCommit[Expected] = field(init=False)

    def __post_init__(self) -> None:
        """The steps a tick sends at once write ahead whom they page in a few transactions, not one each."""
        self._expected = GroupCommit(self._expect)

    async def _expect(self, batch: list[Expected]) -> None:
        async with self.uow() as uow:
            for e in batch:
                await uow.pages.expect(e.page_id, round=e.round, tier=e.tier, users=list(e.users), now=e.now)
            await uow.commit()

    async def send_step(self, page: Page, channel_id: str | None, *, now: datetime) -> TimerResult:
        """Notify the next tier of `page` (as the tick claimed it, with its incident's channel); what to
        record. Giving up is announced only after it is recorded (`recorded`)."""
        if page.status == ACKNOWLEDGED and page.next_step_at is not None:
            return await self._ack_timed_out(page, channel_id, now=now)
        if not page.active:
            return Released("page", page.id)
        step = next_step(page.plan, page.severity, self.policy, tier=page.tier, round=page.round, now=now)
        steps_total = total_steps(page.plan, page.severity, self.policy)
        if step.exhausted:
            note = f"Nobody acknowledged the page after {steps_total} steps"
            return PageStepped(
                page=page,
                channel_id=channel_id,
                round=step.round,
                steps=steps_total,
                tier=step.tier_index,
                notified=(),
                next_tier=page.tier,
                next_round=page.round,
                next_at=None,
                exhausted=True,
                entry=TimelineEntry(TimelineKind.PAGE, now, None, note),
                sent_at=self.clock(),
            )
        assert step.tier is not None
        users = await self._resolve(step.tier, page, channel_id, now)
        if self.rotation is not None and users:
            users = await self.rotation.choose(page, step.tier_index, users)
        number = step.round * (steps_total // (page.plan.repeat + 1)) + step.tier_index + 1
        dm = self.messages.page_dm(
            page_id=page.id,
            title=page.title,
            severity=page.severity,
            channel_id=channel_id,
            tier=number,
            total=steps_total,
        )
        # Write-ahead: whoever answers this DM is someone the page paged (a tick's steps in one transaction).
        await self._expected.add(Expected(page.id, step.round, step.tier_index, tuple(users), now))
        sending = (self.dms.send(u, page, dm, round=step.round, tier=step.tier_index, now=now) for u in users)
        dms = await asyncio.gather(*sending, return_exceptions=True)
        if users and all(isinstance(sent, BaseException) and retryable(sent) for sent in dms):
            # Slack is unreachable or busy for every DM: nobody was reached, so the page does not move on
            # to the next tier; the step is tried again shortly (paged late rather than skipped).
            reason = slack_error(next(s for s in dms if isinstance(s, BaseException)))
            return PageDeferred(page.id, now + STEP_RETRY, reason)
        notified: list[Notified] = []
        for user, sent in zip(users, dms, strict=True):
            if isinstance(sent, BaseException):
                log.warning("page %s: could not DM %s: %s", page.id, user, slack_error(sent))
                notified.append((user, None, None))
            else:
                notified.append((user, sent[0], sent[1]))
        if self.contacts is not None and users:
            await self._plan_contacts(page, users, round=step.round, tier=step.tier_index, now=now)
        if channel_id and users:
            notice = self.messages.paging_notice(users, tier=number, total=steps_total, plan=page.plan.name)
            await post_notice(self.slack, self.messages, channel_id, notice)
        who = ", ".join(f"<@{u}>" for u in users) or "nobody (no one on call)"
        return PageStepped(
            page=page,
            channel_id=channel_id,
            round=step.round,
            steps=steps_total,
            tier=step.tier_index,
            notified=tuple(notified),
            next_tier=step.next_tier,
            next_round=step.next_round,
            # Nobody to notify in this tier: move straight on rather than wait out its timeout.
            next_at=step.next_at if users else now,
            exhausted=False,
            entry=TimelineEntry(TimelineKind.PAGE, now, None, f"Paged {who} (step {number} of {steps_total})"),
            sent_at=self.clock(),
        )

    async def _plan_contacts(self, page: Page, users: list[str], *, round: int, tier: int, now: datetime) -> None:
        """Each paged person's own rules (push, phone…) are planned; a failure to plan them is reported, and
        the Slack DMs already sent still stand."""
        assert self.contacts is not None
        try:
            await self.contacts.plan(page, users, round=round, tier=tier, now=now)
        except Exception as exc:
            log.warning("page %s: contact methods not planned: %s", page.id, exc)

    async def _ack_timed_out(self, page: Page, channel_id: str | None, *, now: datetime) -> AckTimedOut:
        # The DMs showing the acknowledgement, read while the page is still acknowledged and ours: once it
        # re-opens, the first tier's new DMs take their place in the page's record.
        async with self.uow(read_only=True) as uow:
            notified = await uow.pages.notifications(page.id)
        after = timeout_text(page.plan)
        who = f" by <@{page.acknowledged_by}>" if page.acknowledged_by else ""
        note = f"Acknowledgement{who} timed out after {after}: the page escalates again from the first tier"
        assert page.next_step_at is not None
        return AckTimedOut(
            page=page,
            channel_id=channel_id,
            due_at=page.next_step_at,
            notified=tuple(delivered(notified)),
            entry=TimelineEntry(TimelineKind.PAGE, now, None, note),
            sent_at=self.clock(),
        )

    async def recorded(self, result: PageStepped, *, taken: bool) -> None:
        """The step is on record. `taken`: the page was still escalating (not answered meanwhile)."""
        page, channel_id = result.page, result.channel_id
        if result.exhausted:
            if taken:  # announced once: only the tick that marked the page exhausted
                event(log, "page %s exhausted: nobody acknowledged after %d steps", page.id, result.steps, page=page.id)
                notice = self.messages.page_exhausted(page.title, channel_id, steps=result.steps)
                where = ([channel_id] if channel_id else []) + (
                    [self.policy.broadcast_channel]
                    if self.policy.broadcast_channel and not await self._for_a_private_incident(page)
                    else []
                )
                await asyncio.gather(*(post_notice(self.slack, self.messages, c, notice) for c in where))
            return
        reached = ", ".join(n[0] for n in result.notified) or "nobody on call"
        event(log, "page %s: step %d sent to %s", page.id, result.tier + 1, reached, page=page.id)
        due_at = page.next_step_at or result.sent_at
        self.metrics.timer_lateness.labels("page").observe(max(0.0, (result.sent_at - due_at).total_seconds()))
        if not taken:
            # Acknowledged while this step was being sent: show these DMs as settled too.
            async with self.uow(read_only=True) as uow:
                settled = await uow.pages.get(page.id)
            if settled is not None:
                await self.dms.settle(settled, [n for n in result.notified if n[1]], channel_id)

    async def _for_a_private_incident(self, page: Page) -> bool:
        if page.incident_id is None:
            return False
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(page.incident_id)
        return incident is not None and incident.private

    async def reopened(self, result: AckTimedOut, *, taken: bool) -> None:
        """The ack timeout is on record. `taken`: the page was re-opened (not acknowledged again or
        stopped meanwhile), so the channel and whoever acknowledged are told, and the first tier is due."""
        if not taken:
            return
        page = result.page
        event(log, "page %s: the acknowledgement timed out; escalating again", page.id, page=page.id)
        notice = self.messages.ack_timed_out(page.title, page.acknowledged_by, after=timeout_text(page.plan))
        calls: list[Awaitable[object]] = (
            [post_notice(self.slack, self.messages, result.channel_id, notice)] if result.channel_id else []
        )
        if page.acknowledged_by:  # PagerDuty re-notifies whoever acknowledged
            calls.append(self.slack.dm(page.acknowledged_by, notice, [self.messages.section(notice)]))
        # The DMs that showed the acknowledgement (and its Acknowledge again button) say it ran out.
        ran_out = ":alarm_clock: The acknowledgement ran out before this was resolved; the page is escalating again."
        calls.append(self.dms.show_outcome(page, result.notified, result.channel_id, outcome=ran_out))
        for outcome in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.warning("page %s re-opened, but a Slack call failed: %s", page.id, slack_error(outcome))
        self.wake()  # the first tier is due now

    async def _resolve(self, tier: Tier, page: Page, channel_id: str | None, now: datetime) -> list[str]:
        """The user IDs a tier means now; whoever it names but cannot be paged is reported, never skipped
        silently: a warning, a line on the incident's timeline and in its channel."""
        wanted = targets(tier, page.plan, now)
        directory = self.directory or UserDirectory(self.slack, self.policy, self.clock)
        found, members = await asyncio.gather(
            directory.resolve_all(wanted.users),
            asyncio.gather(*(self.slack.group_members(g) for g in wanted.groups), return_exceptions=True),
        )
        users = [r.user_id for r in found if r.user_id]
        missed = [*wanted.unusable, *((r.ref, r.problem or "unknown") for r in found if r.user_id is None)]
        for group, answer in zip(wanted.groups, members, strict=True):
            if isinstance(answer, BaseException):
                missed.append((f"group:{group}", f"Slack said {slack_error(answer)}"))
            else:
                users.extend(answer)
        if missed:
            await self._report_unpaged(page, channel_id, [f"could not page {who}: {why}" for who, why in missed], now)
        return list(dict.fromkeys(users))  # each person once, in order

    async def _report_unpaged(self, page: Page, channel_id: str | None, lines: list[str], now: datetime) -> None:
        for line in lines:
            log.warning("page %s: %s", page.id, line)
        said = [line[:1].upper() + line[1:] for line in lines]
        if page.incident_id is not None:
            async with self.uow() as uow:
                for text in said:
                    await uow.incidents.record(page.incident_id, TimelineEntry(TimelineKind.PAGE, now, None, text))
                await uow.commit()
        if channel_id:
            lines_shown = "\n".join(f":warning: {self.messages.escape(text)}" for text in said)
            await post_notice(self.slack, self.messages, channel_id, lines_shown)


def timeout_text(plan: Plan) -> str:
    """How long a plan's acknowledgement lasts, as people read it."""
    return format_duration(plan.ack_timeout) if plan.ack_timeout else "its timeout"
