"""Claiming due timer rows under a lease: the one mechanism behind update reminders, page steps and
follow-up reminders. Never commits.

One statement per claim, which also loads the rows: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED) RETURNING …` on PostgreSQL (SQLite has one writer, and ignores the locking clause), so replicas
never take the same row; a claim whose lease ran out (its tick died) can be taken again. The statements
are built once, with bound parameters: a tick runs them twice a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession


class Lease:
    """A timer held in a table: its due-time column, and the claim token and lease-end columns."""

    def __init__(
        self, table: sa.Table, *, due: str, claim: str, until: str, where: Sequence[sa.ColumnElement[bool]] = ()
    ) -> None:
        """Build the claim (rows due by `now`, matching `where`, oldest first) and release statements."""
        c = table.c
        self._table, self._claim_column, self._until = table, claim, until
        now = sa.bindparam("now", type_=c[due].type)
        due_rows = (
            sa.select(c.id)
            .where(*where, c[due] <= now, sa.or_(c[until].is_(None), c[until] < now))
            .order_by(c[due])
            .limit(sa.bindparam("limit", type_=sa.Integer()))
            .with_for_update(skip_locked=True)
            .correlate(None)  # the UPDATE's own table: a subquery of its own, not a correlated one
        )
        self._claim = (
            sa.update(table)
            .where(c.id.in_(due_rows))
            .values({claim: sa.bindparam("token"), until: sa.bindparam("lease_end")})
            .returning(*c)
        )
        self._release = self.finishing()
        self._release_all = sa.update(table).where(c[claim] == sa.bindparam("token")).values({claim: None, until: None})

    def finishing(self, *where: sa.ColumnElement[bool], **values: Any) -> sa.Update:
        """The UPDATE that moves a claimed row on (`values`) and gives its claim back, unless the claim
        was lost or `where` no longer holds (something overtook it); binds `row_id` and `token`."""
        c = self._table.c
        return (
            sa.update(self._table)
            .where(c.id == sa.bindparam("row_id"), c[self._claim_column] == sa.bindparam("token"), *where)
            .values({self._claim_column: None, self._until: None, **values})
        )

    async def claim_due(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        lease: timedelta,
        token: str,
        limit: int,
        extra: dict[str, Any] | None = None,
    ) -> Sequence[sa.Row[Any]]:
        """Take up to `limit` rows due by `now` for `lease`; the claimed rows, as they now are (`extra`: the
        values of parameters the `where` clauses bind)."""
        params = {"now": now, "limit": limit, "token": token, "lease_end": now + lease, **(extra or {})}
        return (await session.exec(self._claim, params=params)).all()

    async def release(self, session: AsyncSession, row_id: int, *, token: str) -> None:
        """Give a claim back without changing the timer."""
        await session.exec(self._release, params={"row_id": row_id, "token": token})

    async def release_all(self, session: AsyncSession, *, token: str) -> None:
        """Give back every claim a tick still holds (it is stopping before it could fire them)."""
        await session.exec(self._release_all, params={"token": token})
