"""API tokens: creating one (its secret is returned once, only its hash kept), authenticating a request's
secret to the principal it acts as, listing and revoking them."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from bot.domain.api_tokens import (
    ApiTokenRow,
    Principal,
    Scope,
    check_token_name,
    hash_secret,
    new_secret,
    parse_scopes,
    plausible_secret,
    scope_list,
)
from bot.usecases.ports import Clock, UnitOfWorkFactory

# How stale last_used_at may be before a request records its use (the store keeps it this coarse too).
TOUCH_AFTER_SECONDS = 60


class ApiTokens:
    """The API's tokens, in the database the unit of work opens."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        """Keep the unit-of-work factory and the clock."""
        self._uow = uow
        self._clock = clock

    async def create(self, name: str, scopes: Iterable[Scope | str]) -> str:
        """Store a new token named `name` with `scopes`; its secret, which nothing can show again.

        UserError for an invalid name or no scope; AlreadyStored when a live token has the name."""
        check_token_name(name)
        chosen = scope_list(parse_scopes(scopes))  # UserError, naming the scopes there are, for none
        secret = new_secret()
        async with self._uow() as uow:
            await uow.api_tokens.add(name, hash_secret(secret), chosen.split(","), now=self._clock())
            await uow.commit()
        return secret

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal a presented secret acts as; None when it is no live token's secret.

        The lookup is by hash, so no secret is compared as such; the hashes are compared in constant time
        all the same. Only a token's first use in a minute is a write (SQLite's writer lock is not taken
        per request)."""
        if not plausible_secret(secret):
            return None
        presented = hash_secret(secret)
        async with self._uow(read_only=True) as uow:
            row = await uow.api_tokens.by_hash(presented)
        if row is None or not hmac.compare_digest(row.token_hash, presented):
            return None
        now = self._clock()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_AFTER_SECONDS:
            async with self._uow() as uow:
                await uow.api_tokens.touch(row.id, now=now)
                await uow.commit()
        return row.principal()

    async def listing(self) -> list[ApiTokenRow]:
        """Every token, revoked ones too, oldest first."""
        async with self._uow(read_only=True) as uow:
            return await uow.api_tokens.all()

    async def revoke(self, name: str) -> bool:
        """Revoke the live token named `name` at once; False when there is none."""
        async with self._uow() as uow:
            revoked = await uow.api_tokens.revoke(name, now=self._clock())
            await uow.commit()
        return revoked
