"""Contact attempts: a paged person's own rules (push after a minute, a call after three…) planned inside
their turn as scheduled jobs, then made one by one. Each attempt is a `contact.attempt` job (stored, leased,
fired once across replicas, late rather than never) whose outcome — delivered, failed, answered — goes on
the incident's timeline, in the event log (the method, never the address) and on /metrics. A provider
that fails is tried again quickly, then the person's next method is tried at once.

The person's addresses and rules are snapshotted when the page first reaches them: changing them while
the page runs changes nothing for it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.contact_addresses import SLACK, mask, method_name
from bot.domain.contact_book import ANSWERED, DELIVERED, FAILED, PLANNED, SKIPPED, Attempt
from bot.domain.contact_rules import attempts_for, digest, new_token
from bot.domain.escalation import Page
from bot.domain.events import Subject, about, new_event
from bot.domain.events_beyond import PageContactAttempted
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.jobs import Job, JobDone, JobOutcome, JobRetry, job_key
from bot.domain.policy import Policy
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.usecases.contact_ports import ContactFailed, ContactNotice, ContactSender
from bot.usecases.contacts import ContactBook
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.contacts")

KIND = "contact.attempt"
RETRIES = 2  # a provider that failed in a way worth retrying is asked this many more times…
RETRY_AFTER = timedelta(seconds=10)  # …this soon (or when it asked), before the next method is tried
RETRY_AT_MOST = timedelta(seconds=60)
FAILED_CALL = {"failed", "busy", "no-answer", "canceled", "undelivered"}  # Twilio's statuses that reached nobody


@dataclass
class ContactAttempts:
    """Plans each paged person's attempts (the core's ContactPlanner) and makes them (the job's handler)."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    metrics: Metrics
    book: ContactBook
    sender: ContactSender
    wake_jobs: Callable[[], None]
    public_url: str | None = None

    # ----- planning (called by a page step, after its DMs) -----------------------------------------
    async def plan(self, page: Page, users: Sequence[str], *, round: int, tier: int, now: datetime) -> None:
        """Plan the attempts each of `users`' rules give inside this turn (a step sent again plans nothing new)."""
        if self.book.available == {SLACK}:
            return  # nothing beyond Slack is set up: the DMs are all there is
        due_now = False
        async with self.uow() as uow:
            for user in users:
                reach = await self.book.reach(uow, user)
                addresses, rules = await uow.contacts.snapshot(page.id, user, reach.addresses, reach.rules, now=now)
                planned = attempts_for(
                    rules,
                    addresses,
                    severity=page.severity,
                    rank=self.policy.rank,
                    usable=self.book.available,
                    turn_start=now,
                )
                for attempt in planned:
                    key = job_key("contact", page.id, round, tier, user, attempt.n)
                    stored = await uow.contacts.add_attempt(
                        key,
                        page_id=page.id,
                        round=round,
                        tier=tier,
                        user_id=user,
                        n=attempt.n,
                        method=attempt.method,
                        address=attempt.address,
                        now=now,
                    )
                    if stored is not None:
                        await uow.jobs.schedule(KIND, key, due_at=attempt.due_at, payload={"attempt": stored})
                        due_now = due_now or attempt.due_at <= now
            await uow.commit()
        if due_now:
            self.wake_jobs()

    # ----- making one (the job) ----------------------------------------------------------------------
    async def fire(self, job: Job) -> JobOutcome:
        """Make the attempt `job` stands for, unless the page was answered or the person's turn is over."""
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            attempt = await uow.contacts.attempt(int(job.payload["attempt"]))
            page = await uow.pages.get(attempt.page_id) if attempt else None
            incident = await uow.incidents.get(page.incident_id) if page and page.incident_id else None
        if attempt is None or page is None:
            return JobDone("gone")
        if attempt.outcome != PLANNED:
            return JobDone(f"already {attempt.outcome}")
        if not page.active or not _in_turn(page, attempt):
            async with self.uow() as uow:
                await uow.contacts.set_outcome(attempt.id, SKIPPED, unless=(ANSWERED,))
                await uow.commit()
            return JobDone("page answered" if not page.active else "turn over")
        token = new_token()
        async with self.uow() as uow:
            await uow.contacts.sending(attempt.id, token_digest=digest(token))
            await uow.commit()
        try:
            provider_id = await self.sender.send(
                attempt.method,
                attempt.address,
                self._notice(page, incident, token),
                gather_url=self._url(f"/contacts/twilio/gather?t={token}") if attempt.method == "voice" else None,
                callback_url=self._callback(attempt.method, token),
            )
        except ContactFailed as exc:
            if exc.retryable and job.attempts < RETRIES:
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else RETRY_AFTER
                log.warning(
                    "page %s: %s to %s failed (%s); trying again", page.id, attempt.method, attempt.user_id, exc.reason
                )
                return JobRetry(now + min(wait, RETRY_AT_MOST), exc.reason)
            log.warning(
                "page %s: %s to %s (%s) failed: %s; trying the next method",
                page.id,
                attempt.method,
                attempt.user_id,
                mask(attempt.method, attempt.address),
                exc.reason,
            )
            await self.record(attempt, FAILED, incident=incident, move_on=True)
            return JobDone(f"failed: {exc.reason}")
        await self.record(attempt, DELIVERED, incident=incident, provider_id=provider_id, unless=(ANSWERED, FAILED))
        return JobDone(DELIVERED)

    def _notice(self, page: Page, incident: Incident | None, token: str) -> ContactNotice:
        named = incident is not None and page.title.startswith(incident.reference)  # "INC-1: …" already
        where = f"{incident.reference}: " if incident is not None and not named else ""
        return ContactNotice(
            title=f"{page.severity} page: {page.title}"[:200],
            body=f"You are being paged for {where}{page.title} ({page.severity}). "
            "Acknowledge in Slack, or here, to stop the escalation.",
            severity=page.severity,
            ack_url=self._url(f"/contacts/ack/{token}"),
        )

    def _url(self, path: str) -> str | None:
        return f"{self.public_url.rstrip('/')}{path}" if self.public_url else None

    def _callback(self, method: str, token: str) -> str | None:
        if method in ("sms", "voice"):
            return self._url(f"/contacts/twilio/status?t={token}")
        if method == "pushover":
            return self._url(f"/contacts/pushover?t={token}")
        return None

    # ----- outcomes ----------------------------------------------------------------------------------
    async def record(
        self,
        attempt: Attempt,
        outcome: str,
        *,
        incident: Incident | None = None,
        provider_id: str | None = None,
        unless: Sequence[str] = (),
        move_on: bool = False,
    ) -> bool:
        """Record an attempt's outcome on the timeline, in the event log and on /metrics (unless its outcome
        is one of `unless`); `move_on`: the person's next planned attempt in this turn is due now."""
        now = self.clock()
        moved = False
        async with self.uow() as uow:
            if not await uow.contacts.set_outcome(attempt.id, outcome, provider_id=provider_id, unless=unless):
                return False
            if incident is None:
                incident = await _incident_of(uow, attempt.page_id)
            said = f"{method_name(attempt.method)} to <@{attempt.user_id}>: {outcome}"
            if incident is not None:
                line = said[:1].upper() + said[1:]
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.PAGE, now, None, line))
            subject = about(incident, page_id=attempt.page_id) if incident else Subject(page_id=attempt.page_id)
            body = PageContactAttempted(
                page_id=attempt.page_id, user=attempt.user_id, method=attempt.method, outcome=outcome
            )
            await uow.events.append(new_event(body, subject=subject, actor=None, at=now))
            if move_on:
                moved = await self._next_now(uow, attempt, now)
            await uow.commit()
        self.metrics.contact_attempts.labels(attempt.method, outcome).inc()
        reference = incident.reference if incident else None
        event(log, "page %s: %s", attempt.page_id, said, page=attempt.page_id, incident=reference)
        if moved:
            self.wake_jobs()
        return True

    async def _next_now(self, uow: UnitOfWork, attempt: Attempt, now: datetime) -> bool:
        later = await uow.contacts.later_attempts(attempt)
        return bool(later) and await uow.jobs.reschedule(later[0].job_key, due_at=now)

    async def provider_status(self, token: str, status: str) -> bool:
        """A provider reported on an attempt (Twilio's call or message status): one that reached nobody is
        failed, and the person's next method is tried at once; whether the token named an attempt."""
        async with self.uow(read_only=True) as uow:
            attempt = await uow.contacts.attempt_by_token(digest(token))
        if attempt is None:
            return False
        if status in FAILED_CALL:
            await self.record(attempt, FAILED, unless=(ANSWERED, FAILED), move_on=True)
        return True


def _in_turn(page: Page, attempt: Attempt) -> bool:
    """Whether the attempt's turn (round, tier) is still the page's current one: a page that sent a tier's
    step waits at the next tier of the same round (or is still at it, while the step is being recorded)."""
    return page.round == attempt.round and page.tier in (attempt.tier, attempt.tier + 1)


async def _incident_of(uow: UnitOfWork, page_id: int) -> Incident | None:
    page = await uow.pages.get(page_id)
    return await uow.incidents.get(page.incident_id) if page and page.incident_id else None
