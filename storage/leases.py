"""Claiming due timer rows under a lease: the one mechanism behind update reminders, page steps and
follow-up reminders. Never commits.

`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer), so replicas never take the
same row; a claim whose lease ran out (its tick died) can be taken again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True, slots=True)
class Lease:
    """Which columns of a table hold a timer: its row id, due time, claim token and lease end."""

    table: Any
    id: Any
    due: Any
    claim: Any
    until: Any

    async def claim_due(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        lease: timedelta,
        token: str,
        limit: int,
        where: tuple[sa.ColumnElement[bool], ...] = (),
    ) -> list[int]:
        """Take up to `limit` rows due by `now` (and matching `where`), oldest due first, for `lease`."""
        due = (
            select(self.id)
            .where(
                *where,
                col(self.due) <= now,
                or_(col(self.until).is_(None), col(self.until) < now),
            )
            .order_by(col(self.due))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = [int(i) for i in (await session.exec(due)).all() if i is not None]
        if ids:
            await session.exec(
                sa.update(self.table)
                .where(col(self.id).in_(ids))
                .values({self.claim.key: token, self.until.key: now + lease})
            )
        return ids

    async def release(self, session: AsyncSession, row_id: int, *, token: str) -> None:
        """Give a claim back without changing the timer."""
        await session.exec(
            sa.update(self.table)
            .where(col(self.id) == row_id, col(self.claim) == token)
            .values({self.claim.key: None, self.until.key: None})
        )
