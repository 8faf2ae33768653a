"""A person's contact book, kept by themselves: add an address (a code is sent to it), verify it, remove it,
set the rules of their own escalation, send a test through each method; and what a page may use of it
(their verified addresses and the policy's admin-set ones, their rules or the policy's or the defaults)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.domain.contact_addresses import OUTSIDE, PROVIDER, SLACK, check_address, mask, method_name
from bot.domain.contact_book import (
    ADMIN_SET,
    PENDING,
    RULES_DEFAULT,
    RULES_POLICY,
    RULES_YOURS,
    VERIFIED,
    Book,
    BookEntry,
    TrialResult,
)
from bot.domain.contact_policy import ContactRule, PersonContacts, configured
from bot.domain.contact_rules import (
    CODE_LIFETIME,
    CODE_TRIES,
    MAX_RULES,
    default_rules,
    digest,
    new_code,
    same_code,
)
from bot.domain.errors import UserError
from bot.domain.permissions import NotPermitted, is_admin
from bot.domain.policy import Policy
from bot.domain.user_refs import is_email
from bot.runtime.logs import event
from bot.usecases.contact_ports import ContactFailed, ContactNotice, ContactSender
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.contacts")

Reachable = Callable[[UnitOfWork, Policy, str], Awaitable[bool]]  # whether a person can be woken beyond Slack


@dataclass(frozen=True, slots=True)
class Reach:
    """What a page may use to reach a person: addresses by method (usable ones only) and their rules."""

    addresses: dict[str, str]
    rules: list[ContactRule]


def admin_set(policy: Policy, user_id: str, emails: dict[str, str] | None = None) -> PersonContacts | None:
    """The policy's `people` entry for `user_id` (by ID, or by an address `emails` maps to the ID)."""
    if user_id in policy.people:
        return policy.people[user_id]
    for ref, person in policy.people.items():
        if is_email(ref) and (emails or {}).get(ref.lower()) == user_id:
            return person
    return None


async def people_emails(policy: Policy, directory: UserDirectory | None) -> dict[str, str]:
    """Whose the e-mail addresses that key the policy's `people` are (lowercased address → user ID; an address
    nobody has, or that Slack could not look up now, is left out)."""
    wanted = [ref for ref in policy.people if is_email(ref)]
    if directory is None or not wanted:
        return {}
    return {found.ref.lower(): found.user_id for found in await directory.resolve_all(wanted) if found.user_id}


async def reachable_beyond_slack(
    uow: UnitOfWork, policy: Policy, user_id: str, *, directory: UserDirectory | None = None
) -> bool:
    """Whether a page can reach `user_id` some way beyond Slack (a verified method of theirs, or one an admin
    set in the policy, under their ID or, through `directory`, their e-mail address), by a method this Tocsin
    has set up: someone going on call without one is warned."""
    usable = configured(policy.contact_methods) - {SLACK}
    if set(await uow.contacts.verified_methods(user_id)) & usable:
        return True
    emails = {} if user_id in policy.people else await people_emails(policy, directory)
    person = admin_set(policy, user_id, emails)
    return person is not None and bool(set(person.contacts) & usable)


def reachability(directory: UserDirectory | None) -> Reachable:
    """`reachable_beyond_slack` knowing whose the policy's e-mail addresses are (what handovers are given)."""

    async def reachable(uow: UnitOfWork, policy: Policy, user_id: str) -> bool:
        return await reachable_beyond_slack(uow, policy, user_id, directory=directory)

    return reachable


@dataclass
class ContactBook:
    """People's own contact methods and rules."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    sender: ContactSender
    directory: UserDirectory | None = None
    _emails: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @property
    def available(self) -> set[str]:
        """The methods this Tocsin has set up (Slack always)."""
        return configured(self.policy.contact_methods)

    async def _admin_set(self, user_id: str) -> PersonContacts | None:
        """The policy's entry for `user_id`, looking up the people named by e-mail (remembered)."""
        if self.directory is not None:
            wanted = [ref for ref in self.policy.people if is_email(ref) and ref.lower() not in self._emails]
            for found in await self.directory.resolve_all(wanted):
                if found.user_id:
                    self._emails[found.ref.lower()] = found.user_id
        return admin_set(self.policy, user_id, self._emails)

    async def reach(self, uow: UnitOfWork, user_id: str) -> Reach:
        """What a page may use to reach `user_id`, read in the caller's unit of work: the policy's addresses
        overlaid by their own verified ones, for methods set up; their rules, else the policy's, else the
        defaults (each usable method in turn)."""
        person = await self._admin_set(user_id)
        addresses: dict[str, str] = {str(m): a for m, a in person.contacts.items()} if person else {}
        addresses.update({a.method: a.address for a in await uow.contacts.addresses(user_id) if a.verified})
        addresses = {m: a for m, a in addresses.items() if m in self.available and m != SLACK}
        rules = await uow.contacts.rules(user_id)
        if rules is None:
            rules = list(person.rules) if person and person.rules else default_rules(addresses)
        return Reach(addresses, rules)

    async def book(self, user_id: str) -> Book:
        """`user_id`'s contact book as they see it."""
        person = await self._admin_set(user_id)
        async with self.uow(read_only=True) as uow:
            stored = await uow.contacts.addresses(user_id)
            own_rules = await uow.contacts.rules(user_id)
            reach = await self.reach(uow, user_id)
        entries = {a.method: BookEntry(a.method, a.address, VERIFIED if a.verified else PENDING) for a in stored}
        for method, address in (person.contacts if person else {}).items():
            if method not in entries or not entries[method].usable:
                entries[method] = BookEntry(method, address, ADMIN_SET)
        source = RULES_YOURS if own_rules is not None else RULES_POLICY if person and person.rules else RULES_DEFAULT
        ordered = sorted(entries.values(), key=lambda e: OUTSIDE.index(e.method) if e.method in OUTSIDE else 99)
        available = tuple(m for m in OUTSIDE if m in self.available)
        return Book(tuple(ordered), tuple(reach.rules), source, available)

    async def book_of(self, viewer: str, user_id: str) -> Book:
        """`user_id`'s contact book, addresses in full, for `viewer`: themselves, or one of the policy's admins
        (anyone else is refused). The addresses are never logged."""
        if viewer != user_id:
            if not is_admin(viewer, self.policy, await permission_directory(self.directory)):
                raise NotPermitted(
                    f"Only Tocsin admins can see how pages reach someone else; <@{user_id}> can show you theirs."
                )
            event(log, "contact: %s looked at the contact methods of %s", viewer, user_id, actor=viewer)
        return await self.book(user_id)

    async def add(self, user_id: str, method: str, address: str) -> str:
        """Set `user_id`'s address for `method` and send a code to it; the address as stored."""
        self._require_available(method)
        try:
            value = check_address(method, address)
        except ValueError as exc:
            raise UserError(f"That {method_name(method)} address won't do: {exc}.") from None
        code, now = new_code(), self.clock()
        async with self.uow() as uow:
            await uow.contacts.put_address(
                user_id, method, value, code_digest=digest(code), expires_at=now + CODE_LIFETIME, now=now
            )
            await uow.commit()
        words = " ".join(code)  # read out one digit at a time on a call
        notice = ContactNotice(
            title="Tocsin verification code",
            body=f"Your Tocsin code is {code if method != 'voice' else words}. In Slack, type: "
            f"/incident oncall contact verify {method} {code}",
        )
        try:
            await self.sender.send(method, value, notice)  # a call only reads the code: nothing to press
        except ContactFailed as exc:
            log.warning("contact: the code for %s of %s could not be sent: %s", method, user_id, exc.reason)
            raise UserError(
                f"The code could not be sent by {method_name(method)} ({exc.reason}); check the address and try again."
            ) from None
        event(log, "contact: %s added %s %s; code sent", user_id, method, mask(method, value), actor=user_id)
        return value

    async def verify(self, user_id: str, method: str, code: str) -> None:
        """The code sent to `user_id`'s address for `method` came back: the address is usable."""
        now = self.clock()
        async with self.uow() as uow:
            stored = next((a for a in await uow.contacts.addresses(user_id) if a.method == method), None)
            if stored is None:
                raise UserError(f"You have no {method_name(method)} address waiting; add one first.")
            if stored.verified:
                raise UserError(f"Your {method_name(method)} address is verified already.")
            if stored.code_digest is None or stored.code_expires_at is None or stored.code_expires_at < now:
                raise UserError("That code has expired; add the address again for a new one.")
            if stored.code_tries >= CODE_TRIES:
                raise UserError("Too many wrong codes; add the address again for a new one.")
            if not same_code(code, stored.code_digest):
                await uow.contacts.code_tried(user_id, method)
                await uow.commit()
                raise UserError("That is not the code that was sent; check it and try again.")
            await uow.contacts.mark_verified(user_id, method, now=now)
            await uow.commit()
        event(log, "contact: %s verified %s", user_id, method, actor=user_id)

    async def remove(self, user_id: str, method: str) -> None:
        """Forget `user_id`'s own address for `method` (and their rules using it)."""
        now = self.clock()
        async with self.uow() as uow:
            if not await uow.contacts.remove_address(user_id, method):
                raise UserError(f"You have no {method_name(method)} address of your own to remove.")
            rules = await uow.contacts.rules(user_id)
            if rules is not None and any(r.method == method for r in rules):
                await uow.contacts.set_rules(user_id, [r for r in rules if r.method != method], now=now)
            await uow.commit()
        event(log, "contact: %s removed %s", user_id, method, actor=user_id)

    async def set_rules(self, user_id: str, rules: Sequence[ContactRule]) -> None:
        """Replace `user_id`'s rules (each method set up, and with a usable address of theirs)."""
        if len(rules) > MAX_RULES:
            raise UserError(f"At most {MAX_RULES} rules, please.")
        for rule in rules:
            self._require_available(rule.method)
        async with self.uow() as uow:
            reach = await self.reach(uow, user_id)
            missing = [r.method for r in rules if r.method != SLACK and r.method not in reach.addresses]
            if missing:
                raise UserError(
                    f"You have no verified {method_name(missing[0])} address: "
                    f"`/incident oncall contact add {missing[0]} <address>` first."
                )
            await uow.contacts.set_rules(user_id, list(rules), now=self.clock())
            await uow.commit()
        event(log, "contact: %s set %d contact rules", user_id, len(rules), actor=user_id)

    async def test(self, user_id: str) -> list[TrialResult]:
        """Send a test notification through each of `user_id`'s usable methods beyond Slack."""
        async with self.uow(read_only=True) as uow:
            reach = await self.reach(uow, user_id)
        notice = ContactNotice(
            title="Tocsin test notification",
            body="This is a test of how Tocsin pages you. Nothing is wrong.",
            severity=self.policy.severity_names[-1],
        )

        async def one(method: str, address: str) -> TrialResult:
            try:
                await self.sender.send(method, address, notice)
            except ContactFailed as exc:
                log.warning("contact: test %s to %s failed: %s", method, mask(method, address), exc.reason)
                return TrialResult(method, mask(method, address), exc.reason)
            return TrialResult(method, mask(method, address))

        results = list(await asyncio.gather(*(one(m, a) for m, a in reach.addresses.items())))
        event(log, "contact: %s sent %d test notifications", user_id, len(results), actor=user_id)
        return results

    def _require_available(self, method: str) -> None:
        if method not in self.available:
            provider = PROVIDER.get(method, method)
            raise UserError(
                f"This Tocsin has no {method_name(method)} set up (the policy's contact_methods.{provider})."
            )
