"""Acknowledgements from outside Slack: a keypress on a call, a push notification's action, an e-mail's
link, Pushover's receipt. Each carries its attempt's single-use token (stored hashed), valid only while the
page escalates, and counts exactly as the Slack button does: the page is acknowledged by the person paged."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.contact_book import ANSWERED, Attempt
from bot.domain.contact_rules import digest
from bot.domain.errors import UserError
from bot.domain.escalation import Page
from bot.domain.slack_values import ReplyTarget
from bot.usecases.contact_attempts import ContactAttempts
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.contacts")


class Verdict(StrEnum):
    """What became of an outside acknowledgement."""

    ACKNOWLEDGED = "acknowledged"  # the page stopped escalating (by this, or by someone just before)
    UNKNOWN = "unknown"  # no attempt has that token (forged, or mistyped)
    SPENT = "spent"  # its token was used already (a replay)
    EXPIRED = "expired"  # the page no longer escalates


@dataclass(frozen=True, slots=True)
class Pending:
    """What an acknowledgement link is for (shown before it is used)."""

    verdict: Verdict
    title: str = ""
    severity: str = ""


@dataclass
class OutsideAcks:
    """Outside acknowledgements, checked and spent, then answered through the pager."""

    uow: UnitOfWorkFactory
    pager: Pager
    attempts: ContactAttempts
    clock: Clock

    async def _find(self, token: str) -> tuple[Attempt | None, Page | None]:
        async with self.uow(read_only=True) as uow:
            attempt = await uow.contacts.attempt_by_token(digest(token))
            page = await uow.pages.get(attempt.page_id) if attempt else None
        return attempt, page

    async def look(self, token: str) -> Pending:
        """What the token would acknowledge, without spending it (an e-mail link opened, not yet confirmed)."""
        attempt, page = await self._find(token)
        if attempt is None or page is None:
            return Pending(Verdict.UNKNOWN)
        if attempt.used_at is not None:
            return Pending(Verdict.SPENT)
        if not page.active:
            return Pending(Verdict.EXPIRED)
        return Pending(Verdict.ACKNOWLEDGED, page.title, page.severity)

    async def accept(self, token: str, *, provider_id: str | None = None) -> Verdict:
        """Spend the token and acknowledge its page as the person it reached (`provider_id`: what the provider
        calls the attempt, when its callback says, must match)."""
        attempt, page = await self._find(token)
        if attempt is None or page is None or (provider_id is not None and provider_id != attempt.provider_id):
            return Verdict.UNKNOWN
        if attempt.used_at is not None:
            return Verdict.SPENT
        if not page.active:
            return Verdict.EXPIRED
        async with self.uow() as uow:
            spent = await uow.contacts.use_token(attempt.id, now=self.clock())
            await uow.commit()
        if not spent:  # the same token, twice at once: the other one answered
            return Verdict.SPENT
        user = attempt.user_id
        try:
            await self.pager.acknowledge(attempt.page_id, actor=user, reply_to=ReplyTarget(user, None, None))
        except UserError as exc:  # the page vanished meanwhile
            log.warning("page %s: an outside acknowledgement by %s was refused: %s", attempt.page_id, user, exc)
            return Verdict.EXPIRED
        await self.attempts.record(attempt, ANSWERED, unless=(ANSWERED,))
        return Verdict.ACKNOWLEDGED
