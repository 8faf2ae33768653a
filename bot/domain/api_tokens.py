"""API tokens: the scopes a token may carry, the principal a token acts as, the rows the token store keeps
(tokens and idempotency keys), and how secrets are made and hashed. Pure.

A token is a random secret shown once when it is created; only its SHA-256 hash is stored. Each token has a
name, which is also the principal it acts as (what its actions show as, and what the policy can grant)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import UserError

SECRET_PREFIX = "tocsin_"  # noqa: S105 - not a secret: it makes a leaked secret recognisable (secret scanners, logs)
NAME_MAX = 64
_NAME = re.compile(rf"[a-z0-9_-]{{1,{NAME_MAX}}}")
# Longer than any secret new_secret() makes: a header that long is not a token, and is not hashed.
SECRET_MAX = 200


class Scope(StrEnum):
    """What a token may do through the API."""

    INCIDENTS_READ = "incidents:read"  # list and read incidents, timelines, updates, pages, stats, on-call
    INCIDENTS_WRITE = "incidents:write"  # declare, post updates and notes, change severity and status, resolve
    FOLLOW_UPS_WRITE = "follow-ups:write"  # create follow-ups and mark them done
    PRIVATE_READ = "private:read"  # see private incidents (without it they are "not found")
    EVENTS_READ = "events:read"  # read the event log (/api/v1/events)


SCOPES = ", ".join(scope.value for scope in Scope)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an API request acts as: the token's name, and the scopes the token was given."""

    name: str
    scopes: frozenset[Scope]

    def may(self, scope: Scope) -> bool:
        """Whether the token carries `scope`."""
        return scope in self.scopes


@dataclass(frozen=True, slots=True)
class ApiTokenRow:
    """A stored token: its name, the hash of its secret (never the secret), scopes and when it was
    created, last used and revoked."""

    id: int
    name: str
    token_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        """Whether the token still authenticates."""
        return self.revoked_at is None

    def principal(self) -> Principal:
        """The principal this token acts as."""
        return Principal(self.name, self.scopes)


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    """A declaration's `Idempotency-Key`, per principal: the request it came with (hashed) and the
    incident it made (None while the declaration is still running)."""

    principal: str
    key: str
    request_hash: str
    incident_id: int | None
    created_at: datetime


def new_secret() -> str:
    """A new token secret: the prefix and 32 random bytes, URL-safe base64 (256 bits of entropy)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest of a secret: what is stored and looked up.

    A fast, unsalted hash is right here, unlike for passwords: the secret is 256 random bits, so no
    dictionary or brute-force search can find it from its hash, and a slow hash would only make every API
    request slower."""
    return hashlib.sha256(secret.encode()).hexdigest()


def plausible_secret(secret: str) -> bool:
    """Whether a presented secret is worth looking up at all (not empty, not absurdly long)."""
    return 0 < len(secret) <= SECRET_MAX


def check_token_name(name: str) -> str:
    """The name, when it is a valid token name (1-64 of a-z, 0-9, - and _); UserError otherwise."""
    if not _NAME.fullmatch(name):
        raise UserError(f"{name!r} is not a valid token name: use 1-{NAME_MAX} characters of a-z, 0-9, - and _")
    return name


def parse_scopes(text: str | Iterable[str]) -> frozenset[Scope]:
    """Scopes from `a,b` (or a list of them); UserError naming the valid scopes for an unknown or missing one."""
    words = text.split(",") if isinstance(text, str) else list(text)
    names = [word.strip() for word in words if word.strip()]
    if not names:
        raise UserError(f"give at least one scope; the scopes are: {SCOPES}")
    unknown = [name for name in names if name not in Scope._value2member_map_]
    if unknown:
        raise UserError(f"unknown scope {', '.join(map(repr, unknown))}; the scopes are: {SCOPES}")
    return frozenset(Scope(name) for name in names)


def known_scopes(stored: str) -> frozenset[Scope]:
    """The scopes of a stored comma-separated list; a scope this version does not know grants nothing."""
    return frozenset(Scope(name) for name in stored.split(",") if name in Scope._value2member_map_)


def scope_list(scopes: Iterable[Scope]) -> str:
    """Scopes as stored and shown: comma-separated, in the order Scope lists them."""
    wanted = set(scopes)
    return ",".join(scope.value for scope in Scope if scope in wanted)
