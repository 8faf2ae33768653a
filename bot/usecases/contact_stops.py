"""A page answered or stopped: its notifications that repeat until answered (Pushover's emergency
priority) are stopped, so nobody's phone keeps ringing for a page someone took in Slack. An event-log
subscriber (`page.acknowledged`, `page.cancelled`): at least once, idempotent (stopping twice is harmless)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.contact_book import DELIVERED
from bot.domain.event_kinds import EventKind
from bot.domain.events import DomainEvent
from bot.usecases.contact_ports import ContactFailed, ContactSender
from bot.usecases.ports import UnitOfWorkFactory

log = logging.getLogger("bot.usecases.contacts")

REPEATING = {"pushover"}


@dataclass
class RepeatsStopper:
    """Stops a page's repeating notifications once it no longer escalates."""

    uow: UnitOfWorkFactory
    sender: ContactSender
    name: str = "contacts.stop_repeats"

    @property
    def kinds(self) -> Collection[EventKind] | None:
        """A page acknowledged or cancelled."""
        return (EventKind.PAGE_ACKNOWLEDGED, EventKind.PAGE_CANCELLED)

    async def handle(self, event: DomainEvent) -> None:
        """Stop every delivered repeating notification of the event's page (a refusal is one warning)."""
        page_id = event.subject.page_id
        if page_id is None:
            return
        async with self.uow(read_only=True) as uow:
            attempts = await uow.contacts.attempts_of_page(page_id)
        for attempt in attempts:
            if attempt.method in REPEATING and attempt.outcome == DELIVERED and attempt.provider_id:
                try:
                    await self.sender.stop(attempt.method, attempt.provider_id)
                except ContactFailed as exc:
                    if exc.retryable:
                        raise  # handed over again later
                    log.warning("page %s: could not stop a %s notification: %s", page_id, attempt.method, exc.reason)
