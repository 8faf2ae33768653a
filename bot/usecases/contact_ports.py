"""The store of people's contact methods and rules, verification codes, contact attempts (`uow.contacts`),
and the port through which contact attempts leave Tocsin (`ContactSender`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.contact_book import Attempt, StoredAddress
from bot.domain.contact_policy import ContactRule


class ContactStore(Protocol):
    """People's contact methods and rules, verification codes, contact attempts."""

    async def addresses(self, user_id: str) -> list[StoredAddress]:
        """The addresses `user_id` set for themselves, verified or not."""
        ...

    async def verified_methods(self, user_id: str) -> list[str]:
        """The methods beyond Slack that `user_id` set and verified themselves (the policy's are the use
        case's to add: see `reachable_beyond_slack` in bot/usecases/contacts.py)."""
        ...

    async def put_address(
        self, user_id: str, method: str, address: str, *, code_digest: str, expires_at: datetime, now: datetime
    ) -> None:
        """Set (or replace) an address, unverified until the code whose digest is given comes back."""
        ...

    async def code_tried(self, user_id: str, method: str) -> None:
        """Count a wrong code."""
        ...

    async def mark_verified(self, user_id: str, method: str, *, now: datetime) -> None:
        """The code came back: the address can be used."""
        ...

    async def remove_address(self, user_id: str, method: str) -> bool:
        """Forget an address; whether there was one."""
        ...

    async def rules(self, user_id: str) -> list[ContactRule] | None:
        """The rules `user_id` set for themselves (None: they set none)."""
        ...

    async def set_rules(self, user_id: str, rules: Sequence[ContactRule], *, now: datetime) -> None:
        """Replace `user_id`'s rules."""
        ...

    async def snapshot(
        self, page_id: int, user_id: str, addresses: dict[str, str], rules: Sequence[ContactRule], *, now: datetime
    ) -> tuple[dict[str, str], list[ContactRule]]:
        """Keep `addresses` and `rules` as the page's for `user_id` unless it kept some already; the kept ones."""
        ...

    async def add_attempt(
        self,
        job_key: str,
        *,
        page_id: int,
        round: int,
        tier: int,
        user_id: str,
        n: int,
        method: str,
        address: str,
        now: datetime,
    ) -> int | None:
        """Store a planned attempt; its id, or None when one with `job_key` exists already."""
        ...

    async def attempt(self, attempt_id: int) -> Attempt | None:
        """An attempt by id."""
        ...

    async def attempt_by_token(self, token_digest: str) -> Attempt | None:
        """The attempt whose acknowledgement token has this digest."""
        ...

    async def sending(self, attempt_id: int, *, token_digest: str) -> None:
        """The attempt is about to be sent with a fresh token (whose digest is kept)."""
        ...

    async def set_outcome(
        self, attempt_id: int, outcome: str, *, provider_id: str | None = None, unless: Sequence[str] = ()
    ) -> bool:
        """Record an attempt's outcome (and the provider's id for it), unless its outcome is one of `unless`;
        whether it was recorded."""
        ...

    async def use_token(self, attempt_id: int, *, now: datetime) -> bool:
        """Spend the attempt's acknowledgement token; False when it was spent already (a replay)."""
        ...

    async def attempts_of_page(self, page_id: int) -> list[Attempt]:
        """Every attempt of a page, in the order they were planned."""
        ...

    async def later_attempts(self, attempt: Attempt) -> list[Attempt]:
        """The same person's attempts planned after `attempt` in the same turn and not yet made, in order."""
        ...


class ContactFailed(Exception):
    """A provider did not take a message (`retryable`: it may take it if asked again)."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        """What went wrong, as one line without the address."""
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ContactNotice:
    """What an attempt says: a title and a body, for a severity (push priority…), and the link that
    acknowledges it (None for test notifications and verification codes)."""

    title: str
    body: str
    severity: str | None = None
    ack_url: str | None = None


class ContactSender(Protocol):
    """Sends through the providers of the policy's contact_methods."""

    async def send(
        self,
        method: str,
        address: str,
        notice: ContactNotice,
        *,
        gather_url: str | None = None,
        callback_url: str | None = None,
    ) -> str:
        """Send `notice` to `address` by `method`; the provider's id for it. ContactFailed otherwise.
        `gather_url`: where a phone call's keypress goes; `callback_url`: where the provider reports back."""
        ...

    async def stop(self, method: str, provider_id: str) -> None:
        """Stop a sent notice that repeats until answered (Pushover's emergency priority); nothing for the
        others. ContactFailed when the provider refused."""
        ...
