"""`/incident oncall contact …` and `/incident oncall test`: a person keeps their own contact book.

/incident oncall contact                              show yours (only to you)
/incident oncall contact @user                        show theirs (admins only; only to you)
/incident oncall contact add <method> <address>       a code is sent to it
/incident oncall contact verify <method> <code>       the address can now be used
/incident oncall contact remove <method>
/incident oncall contact rules <method>@<delay>[:<severity>] …   e.g. ntfy@0s sms@2m:SEV2 voice@3m:SEV1
/incident oncall test                                 a test through each of your methods
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.contact_addresses import METHOD_NAMES, OUTSIDE
from bot.domain.contact_policy import ContactRule
from bot.domain.contact_rules import parse_rule
from bot.domain.errors import UsageError
from bot.domain.policy import Policy
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_types import Subcommand
from bot.entrypoints.commands import Invocation
from bot.slack.blocks.contacts import book_reply, test_reply
from bot.slack.mrkdwn import escape, plain_from_slack
from bot.usecases.contacts import ContactBook

CONTACT_USAGE = (
    "oncall contact [@user | add <method> <address> | verify <method> <code> | remove <method> | rules <rule> …]"
)
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True, slots=True)
class ShowContacts:
    """Show a contact book: the person's own, or (for admins) `user`'s."""

    user: str | None = None


@dataclass(frozen=True, slots=True)
class AddContact:
    """Set an address for a method (a code is sent to it)."""

    method: str
    address: str


@dataclass(frozen=True, slots=True)
class VerifyContact:
    """The code sent to an address came back."""

    method: str
    code: str


@dataclass(frozen=True, slots=True)
class RemoveContact:
    """Forget an address."""

    method: str


@dataclass(frozen=True, slots=True)
class SetContactRules:
    """Replace the person's rules."""

    rules: tuple[ContactRule, ...]


@dataclass(frozen=True, slots=True)
class TestContacts:
    """Send a test through each method."""


def _method(word: str, usage: str) -> str:
    method = word.strip().lower()
    if method not in OUTSIDE:
        known = ", ".join(m for m in METHOD_NAMES if m in OUTSIDE)
        raise UsageError(f"`{escape(word[:20])}` is not a contact method: use {known}.", usage=usage)
    return method


def parse_contact(rest: str, policy: Policy, usage: str) -> object:
    """`/incident oncall contact …` into a command."""
    words = rest.split()
    if not words:
        return ShowContacts()
    if mention := _USER_MENTION.match(words[0]):
        if len(words) > 1:
            raise UsageError("`contact @user` takes nothing more.", usage=usage)
        return ShowContacts(mention.group(1))
    action, args = words[0].lower(), words[1:]
    if action == "add":
        if len(args) < 2:
            raise UsageError("Name a method and an address, e.g. `add sms +447700900123`.", usage=usage)
        # Slack sends an e-mail address as a mailto link; a phone number may be typed with spaces
        return AddContact(_method(args[0], usage), plain_from_slack(" ".join(args[1:])))
    if action == "verify":
        if len(args) != 2 or not args[1].isdigit():
            raise UsageError("Name the method and the code sent to it, e.g. `verify sms 123456`.", usage=usage)
        return VerifyContact(_method(args[0], usage), args[1])
    if action == "remove":
        if len(args) != 1:
            raise UsageError("Name the method to remove, e.g. `remove sms`.", usage=usage)
        return RemoveContact(_method(args[0], usage))
    if action == "rules":
        if not args:
            raise UsageError("Give at least one rule, e.g. `rules slack@0s ntfy@1m voice@3m:SEV1`.", usage=usage)
        return SetContactRules(_rules(args, policy.severity_names, usage))
    raise UsageError(f"`{escape(action[:20])}` is not something `contact` does.", usage=usage)


def _rules(words: Sequence[str], severities: Sequence[str], usage: str) -> tuple[ContactRule, ...]:
    rules = []
    for word in words:
        try:
            rules.append(parse_rule(word, severities))
        except ValueError as exc:
            raise UsageError(escape(str(exc)), usage=usage) from None
    return tuple(rules)


def parse_test(rest: str, _policy: Policy, usage: str) -> object:
    """`/incident oncall test`."""
    if rest.strip():
        raise UsageError("`oncall test` takes nothing more.", usage=usage)
    return TestContacts()


def contact_commands(book: ContactBook) -> CommandFamily:
    """The family of subcommands."""

    async def show(typed: Invocation, parsed: ShowContacts) -> None:
        if parsed.user is None or parsed.user == typed.actor:
            await typed.reply(*book_reply(await book.book(typed.actor)))
            return
        await typed.reply(*book_reply(await book.book_of(typed.actor, parsed.user), owner=parsed.user))

    async def add(typed: Invocation, parsed: AddContact) -> None:
        await book.add(typed.actor, parsed.method, parsed.address)
        await typed.reply(
            f"A code is on its way to your {METHOD_NAMES[parsed.method]}. "
            f"Type `/incident oncall contact verify {parsed.method} <code>` within 15 minutes."
        )

    async def verify(typed: Invocation, parsed: VerifyContact) -> None:
        await book.verify(typed.actor, parsed.method, parsed.code)
        await typed.reply(*book_reply(await book.book(typed.actor)))

    async def remove(typed: Invocation, parsed: RemoveContact) -> None:
        await book.remove(typed.actor, parsed.method)
        await typed.reply(*book_reply(await book.book(typed.actor)))

    async def rules(typed: Invocation, parsed: SetContactRules) -> None:
        await book.set_rules(typed.actor, parsed.rules)
        await typed.reply(*book_reply(await book.book(typed.actor)))

    async def test(typed: Invocation, _parsed: TestContacts) -> None:
        await typed.reply(test_reply(await book.test(typed.actor)))

    return CommandFamily(
        subcommands=(
            Subcommand(
                "oncall contact", CONTACT_USAGE, "how pages reach you beyond Slack (push, SMS, calls, e-mail)", True
            ),
            Subcommand("oncall test", "oncall test", "send a test through each of your contact methods", True),
        ),
        oncall={"contact": parse_contact, "test": parse_test},
        handlers={
            ShowContacts: show,
            AddContact: add,
            VerifyContact: verify,
            RemoveContact: remove,
            SetContactRules: rules,
            TestContacts: test,
        },
    )
