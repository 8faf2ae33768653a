"""Waking people: each person's contact methods and rules, contact attempts, outside acknowledgements."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.domain.contact_addresses import SLACK
from bot.domain.slack_values import ReplyTarget
from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.contact_callbacks import ContactCallbacks
from bot.entrypoints.contact_commands import contact_commands
from bot.entrypoints.contact_senders import ProviderSender
from bot.entrypoints.listening import Request, accepted
from bot.slack.blocks.contacts import TEST_ACTION, home_section, test_reply
from bot.usecases.contact_attempts import KIND, ContactAttempts
from bot.usecases.contact_stops import RepeatsStopper
from bot.usecases.contacts import ContactBook
from bot.usecases.hooks import Hooks
from bot.usecases.outside_acks import OutsideAcks

log = logging.getLogger("bot.entrypoints.capabilities.contacts")


@dataclass(frozen=True)
class ContactsHome:
    """The viewer's contact methods on App Home (when this Tocsin has any beyond Slack)."""

    book: ContactBook

    async def blocks(self, team_id: str, user_id: str) -> list[dict[str, Any]]:
        """Their methods, rules and a test button."""
        if self.book.available == {SLACK}:
            return []
        return home_section(await self.book.book(user_id))


@dataclass
class Contacts:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "contacts"
    sender: ProviderSender = field(init=False)
    book: ContactBook = field(init=False)
    attempts: ContactAttempts = field(init=False)

    def __post_init__(self) -> None:
        """The contact book and the attempts, sending through the providers the policy sets up."""
        base = self.base
        self.sender = ProviderSender(base.policy.contact_methods, base.environ, base.http)
        self.book = ContactBook(base.uow, base.policy, base.clock, self.sender, directory=base.directory)
        self.attempts = ContactAttempts(
            base.uow, base.policy, base.clock, base.metrics, self.book, self.sender, base.wake_jobs, base.public_url
        )
        if self.book.available != {SLACK} and not base.public_url:
            log.warning(
                "contact methods are set up but PUBLIC_URL is not: pages reach people, but cannot be "
                "acknowledged from a call, a push or an e-mail"
            )

    def hooks(self) -> Hooks:
        """What the core calls into."""
        return Hooks(contacts=self.attempts, home_sections=(ContactsHome(self.book),))

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        base = self.base
        acks = OutsideAcks(base.uow, core.pager, self.attempts, base.clock)
        callbacks = ContactCallbacks(acks, self.attempts, self.sender, lambda: base.public_url)
        book = self.book

        def listeners(app: AsyncApp) -> None:
            @app.action(TEST_ACTION)
            @accepted(core.background, base.clock)
            async def send_a_test(request: Request) -> None:
                text = test_reply(await book.test(request.actor))
                await base.slack.reply(ReplyTarget(request.actor, None, None), text)

        def routes(app: web.Application) -> None:
            callbacks.add_routes(app)

        return Surfaces(
            jobs={KIND: self.attempts.fire},
            subscribers=(RepeatsStopper(base.uow, self.sender),),
            commands=contact_commands(book),
            listeners=listeners,
            routes=routes,
        )


def capability(base: Base) -> Contacts:
    """Build the capability."""
    return Contacts(base)
