"""What is stored of a person's contact methods and of the attempts to reach them, and their contact book as
they see it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.contact_policy import ContactRule

PLANNED, DELIVERED, FAILED, ANSWERED, SKIPPED = "planned", "delivered", "failed", "answered", "skipped"
VERIFIED, PENDING, ADMIN_SET = "verified", "waiting for its code", "set by an admin"
RULES_YOURS, RULES_POLICY, RULES_DEFAULT = "yours", "the policy's", "the default"


@dataclass(frozen=True, slots=True)
class StoredAddress:
    """A person's address for a method, set by themselves: usable once verified."""

    user_id: str
    method: str
    address: str
    verified_at: datetime | None
    code_digest: str | None = None
    code_expires_at: datetime | None = None
    code_tries: int = 0

    @property
    def verified(self) -> bool:
        """Whether its code came back (it can be used)."""
        return self.verified_at is not None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A planned or made try to reach a paged person by one method, inside their turn (round, tier)."""

    id: int
    job_key: str
    page_id: int
    round: int
    tier: int
    user_id: str
    n: int
    method: str
    address: str
    outcome: str = PLANNED
    provider_id: str | None = None
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BookEntry:
    """One of a person's methods as they see it: the address in full (it is theirs), and its state."""

    method: str
    address: str
    state: str

    @property
    def usable(self) -> bool:
        """Whether pages may use it."""
        return self.state != PENDING


@dataclass(frozen=True, slots=True)
class Book:
    """A person's contact book as they see it: their methods, the rules in force and whose they are, and the
    methods this Tocsin has set up."""

    entries: tuple[BookEntry, ...]
    rules: tuple[ContactRule, ...]
    rules_source: str
    available: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TrialResult:
    """What a test notification through one method did (the address masked: replies can be forwarded)."""

    method: str
    masked: str
    error: str | None = None
