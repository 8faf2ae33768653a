"""The API's tokens and idempotency keys within one unit of work. Never commits.

Claiming an idempotency key is one INSERT … ON CONFLICT DO NOTHING: of two requests racing with the same
key, on either database, exactly one inserts it (PostgreSQL makes the second wait for the first's
transaction; SQLite has one writer at a time) and the other reads the row the first left.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.api_tokens import ApiTokenRow, IdempotencyRow, known_scopes, parse_scopes, scope_list
from bot.domain.errors import AlreadyStored
from storage.api_models import ApiTokenTable, IdempotencyKeyTable
from storage.core_sql import dialect_insert, run, table_of

TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is this coarse: a busy token is not a write per request
_CLAIM_TRIES = 5  # a key forgotten between our INSERT and our read is claimed again, this many times at most

_tokens = table_of(ApiTokenTable)
_keys = table_of(IdempotencyKeyTable)


class ApiTokenRecords:
    """API tokens, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def add(self, name: str, token_hash: str, scopes: Sequence[str], *, now: datetime) -> ApiTokenRow:
        """Store a new token; AlreadyStored when a live token has the name (the session stays usable)."""
        stored = scope_list(parse_scopes(scopes))
        statement = (
            dialect_insert(self._session, _tokens)
            .values(name=name, token_hash=token_hash, scopes=stored, created_at=now)
            .on_conflict_do_nothing()
            .returning(_tokens.c.id)
        )
        token_id = (await self._session.exec(statement)).scalar_one_or_none()
        if token_id is None:
            raise AlreadyStored(f"a token named {name!r} exists")
        return ApiTokenRow(int(token_id), name, token_hash, known_scopes(stored), now, None, None)

    async def by_hash(self, token_hash: str) -> ApiTokenRow | None:
        """The live token whose secret hashes to `token_hash`."""
        statement = sa.select(_tokens).where(_tokens.c.token_hash == token_hash, _tokens.c.revoked_at.is_(None))
        row = (await run(self._session, statement)).first()
        return None if row is None else _token(row)

    async def touch(self, token_id: int, *, now: datetime) -> None:
        """Record that a token was used, unless it was recorded less than a minute ago."""
        c = _tokens.c
        await self._session.exec(
            sa.update(_tokens)
            .where(c.id == token_id, sa.or_(c.last_used_at.is_(None), c.last_used_at < now - TOUCH_EVERY))
            .values(last_used_at=now)
        )

    async def all(self) -> list[ApiTokenRow]:
        """Every token, revoked ones too, oldest first."""
        statement = sa.select(_tokens).order_by(_tokens.c.created_at, _tokens.c.id)
        return [_token(row) for row in (await run(self._session, statement)).all()]

    async def revoke(self, name: str, *, now: datetime) -> bool:
        """Revoke the live token of that name; False when there is none."""
        c = _tokens.c
        result = await self._session.exec(
            sa.update(_tokens).where(c.name == name, c.revoked_at.is_(None)).values(revoked_at=now)
        )
        return bool(result.rowcount)


class IdempotencyRecords:
    """The `Idempotency-Key`s of API declarations, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def claim(self, principal: str, key: str, request_hash: str, *, now: datetime) -> IdempotencyRow | None:
        """Take a key for a declaration: None when this call took it (declare, then `settle` or `forget`),
        else the row of whoever took it first (its incident, or None while that declaration runs)."""
        insert = (
            dialect_insert(self._session, _keys)
            .values(principal=principal, key=key, request_hash=request_hash, created_at=now)
            .on_conflict_do_nothing()
        )
        for _ in range(_CLAIM_TRIES):
            if (await self._session.exec(insert)).rowcount:
                return None
            if (existing := await self.get(principal, key)) is not None:
                return existing
        raise AlreadyStored(f"idempotency key {key!r} keeps being taken and given up")

    async def get(self, principal: str, key: str) -> IdempotencyRow | None:
        """A principal's key, if it is claimed."""
        statement = sa.select(_keys).where(_keys.c.principal == principal, _keys.c.key == key)
        row = (await run(self._session, statement)).first()
        return None if row is None else _key(row)

    async def settle(self, principal: str, key: str, incident_id: int) -> None:
        """The declaration a key was claimed for made `incident_id`."""
        await self._session.exec(
            sa.update(_keys).where(_keys.c.principal == principal, _keys.c.key == key).values(incident_id=incident_id)
        )

    async def forget(self, principal: str, key: str) -> None:
        """Give a key up (its declaration failed): the same key may be tried again."""
        await self._session.exec(sa.delete(_keys).where(_keys.c.principal == principal, _keys.c.key == key))

    async def expire(self, before: datetime) -> int:
        """Drop the keys claimed before `before`; how many."""
        result = await self._session.exec(sa.delete(_keys).where(_keys.c.created_at < before))
        return int(result.rowcount or 0)


def _token(row: Any) -> ApiTokenRow:
    return ApiTokenRow(
        row.id, row.name, row.token_hash, known_scopes(row.scopes), row.created_at, row.last_used_at, row.revoked_at
    )


def _key(row: Any) -> IdempotencyRow:
    return IdempotencyRow(row.principal, row.key, row.request_hash, row.incident_id, row.created_at)
