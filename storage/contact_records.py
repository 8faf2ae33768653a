"""People's contact methods and rules, verification codes, contact attempts (`uow.contacts`). Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.contact_book import PLANNED, Attempt, StoredAddress
from bot.domain.contact_policy import ContactRule
from storage.contact_models import ContactAddressRow, ContactAttemptRow, ContactRulesRow, ContactSnapshotRow
from storage.core_sql import dialect_insert, run, table_of
from storage.row_values import value_from_row

_addresses = table_of(ContactAddressRow)
_rules = table_of(ContactRulesRow)
_attempts = table_of(ContactAttemptRow)
_snapshots = table_of(ContactSnapshotRow)


def _address(row: Any) -> StoredAddress:
    return value_from_row(StoredAddress, row)


def _attempt(row: Any) -> Attempt:
    return value_from_row(Attempt, row)


class ContactRecords:
    """People's contact methods and rules, verification codes, contact attempts, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    # ----- addresses ---------------------------------------------------------------------------------
    async def addresses(self, user_id: str) -> list[StoredAddress]:
        """The addresses `user_id` set for themselves, verified or not."""
        statement = sa.select(_addresses).where(_addresses.c.user_id == user_id).order_by(_addresses.c.id)
        return [_address(r) for r in (await run(self._session, statement)).all()]

    async def verified_methods(self, user_id: str) -> list[str]:
        """The methods beyond Slack that `user_id` set and verified themselves."""
        statement = (
            sa.select(_addresses.c.method)
            .where(_addresses.c.user_id == user_id, _addresses.c.verified_at.is_not(None))
            .order_by(_addresses.c.id)
        )
        return [str(m) for m in (await run(self._session, statement)).scalars().all()]

    async def put_address(
        self, user_id: str, method: str, address: str, *, code_digest: str, expires_at: datetime, now: datetime
    ) -> None:
        """Set (or replace) an address, unverified until the code whose digest is given comes back."""
        values = {
            "address": address,
            "verified_at": None,
            "code_digest": code_digest,
            "code_expires_at": expires_at,
            "code_tries": 0,
        }
        insert = dialect_insert(self._session, _addresses).values(
            user_id=user_id, method=method, created_at=now, **values
        )
        await self._session.exec(insert.on_conflict_do_update(index_elements=["user_id", "method"], set_=values))

    async def code_tried(self, user_id: str, method: str) -> None:
        """Count a wrong code."""
        await self._session.exec(
            sa.update(_addresses)
            .where(_addresses.c.user_id == user_id, _addresses.c.method == method)
            .values(code_tries=_addresses.c.code_tries + 1)
        )

    async def mark_verified(self, user_id: str, method: str, *, now: datetime) -> None:
        """The code came back: the address can be used."""
        await self._session.exec(
            sa.update(_addresses)
            .where(_addresses.c.user_id == user_id, _addresses.c.method == method)
            .values(verified_at=now, code_digest=None, code_expires_at=None, code_tries=0)
        )

    async def remove_address(self, user_id: str, method: str) -> bool:
        """Forget an address; whether there was one."""
        result = await self._session.exec(
            sa.delete(_addresses).where(_addresses.c.user_id == user_id, _addresses.c.method == method)
        )
        return bool(result.rowcount)

    # ----- rules -------------------------------------------------------------------------------------
    async def rules(self, user_id: str) -> list[ContactRule] | None:
        """The rules `user_id` set for themselves (None: they set none)."""
        statement = sa.select(_rules.c.rules).where(_rules.c.user_id == user_id)
        stored = (await run(self._session, statement)).scalar_one_or_none()
        return None if stored is None else [ContactRule.model_validate(r) for r in stored]

    async def set_rules(self, user_id: str, rules: Sequence[ContactRule], *, now: datetime) -> None:
        """Replace `user_id`'s rules."""
        stored = [r.model_dump(mode="json") for r in rules]
        insert = dialect_insert(self._session, _rules).values(user_id=user_id, rules=stored, updated_at=now)
        await self._session.exec(
            insert.on_conflict_do_update(index_elements=["user_id"], set_={"rules": stored, "updated_at": now})
        )

    # ----- a page's snapshot of a person's reach ------------------------------------------------------------
    async def snapshot(
        self, page_id: int, user_id: str, addresses: dict[str, str], rules: Sequence[ContactRule], *, now: datetime
    ) -> tuple[dict[str, str], list[ContactRule]]:
        """Keep `addresses` and `rules` as the page's for `user_id` unless it kept some already; the kept ones."""
        insert = dialect_insert(self._session, _snapshots).values(
            page_id=page_id,
            user_id=user_id,
            addresses=dict(addresses),
            rules=[r.model_dump(mode="json") for r in rules],
            created_at=now,
        )
        await self._session.exec(insert.on_conflict_do_nothing(index_elements=["page_id", "user_id"]))
        statement = sa.select(_snapshots.c.addresses, _snapshots.c.rules).where(
            _snapshots.c.page_id == page_id, _snapshots.c.user_id == user_id
        )
        kept = (await run(self._session, statement)).one()
        return dict(kept.addresses), [ContactRule.model_validate(r) for r in kept.rules]

    # ----- attempts ----------------------------------------------------------------------------------
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
        statement = (
            dialect_insert(self._session, _attempts)
            .values(
                job_key=job_key,
                page_id=page_id,
                round=round,
                tier=tier,
                user_id=user_id,
                n=n,
                method=method,
                address=address,
                outcome=PLANNED,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["job_key"])
            .returning(_attempts.c.id)
        )
        found = (await self._session.exec(statement)).scalar_one_or_none()
        return None if found is None else int(found)

    async def attempt(self, attempt_id: int) -> Attempt | None:
        """An attempt by id."""
        row = (await run(self._session, sa.select(_attempts).where(_attempts.c.id == attempt_id))).first()
        return None if row is None else _attempt(row)

    async def attempt_by_token(self, token_digest: str) -> Attempt | None:
        """The attempt whose acknowledgement token has this digest."""
        statement = sa.select(_attempts).where(_attempts.c.token_digest == token_digest)
        row = (await run(self._session, statement)).first()
        return None if row is None else _attempt(row)

    async def sending(self, attempt_id: int, *, token_digest: str) -> None:
        """The attempt is about to be sent with a fresh token (whose digest is kept)."""
        await self._session.exec(
            sa.update(_attempts).where(_attempts.c.id == attempt_id).values(token_digest=token_digest)
        )

    async def set_outcome(
        self, attempt_id: int, outcome: str, *, provider_id: str | None = None, unless: Sequence[str] = ()
    ) -> bool:
        """Record an attempt's outcome (and the provider's id), unless its outcome is one of `unless`."""
        values: dict[str, Any] = {"outcome": outcome}
        if provider_id is not None:
            values["provider_id"] = provider_id[:128]
        statement = sa.update(_attempts).where(_attempts.c.id == attempt_id)
        if unless:
            statement = statement.where(_attempts.c.outcome.not_in(list(unless)))
        result = await self._session.exec(statement.values(values))
        return bool(result.rowcount)

    async def use_token(self, attempt_id: int, *, now: datetime) -> bool:
        """Spend the attempt's acknowledgement token; False when it was spent already (a replay)."""
        result = await self._session.exec(
            sa.update(_attempts).where(_attempts.c.id == attempt_id, _attempts.c.used_at.is_(None)).values(used_at=now)
        )
        return bool(result.rowcount)

    async def attempts_of_page(self, page_id: int) -> list[Attempt]:
        """Every attempt of a page, in the order they were planned."""
        statement = sa.select(_attempts).where(_attempts.c.page_id == page_id).order_by(_attempts.c.id)
        return [_attempt(r) for r in (await run(self._session, statement)).all()]

    async def later_attempts(self, attempt: Attempt) -> list[Attempt]:
        """The same person's attempts planned after `attempt` in the same turn and not yet made, in order."""
        c = _attempts.c
        statement = (
            sa.select(_attempts)
            .where(
                c.page_id == attempt.page_id,
                c.round == attempt.round,
                c.tier == attempt.tier,
                c.user_id == attempt.user_id,
                c.n > attempt.n,
                c.outcome == PLANNED,
            )
            .order_by(c.n)
        )
        return [_attempt(r) for r in (await run(self._session, statement)).all()]
