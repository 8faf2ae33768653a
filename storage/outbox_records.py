"""Posts waiting to be sent again (Slack refused them for now): stored, claimed under a lease, then
deleted once sent. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core_sql import table_of
from storage.leases import Lease
from storage.models import OutboxRow, UTCDateTime

_outbox = table_of(OutboxRow)
WAITING_POST = Lease(_outbox, due="due_at", claim="claim", until="claimed_until")
_mine = (_outbox.c.id == sa.bindparam("row_id"), _outbox.c.claim == sa.bindparam("token"))
SENT = sa.delete(_outbox).where(*_mine)
AGAIN_LATER = (
    sa.update(_outbox)
    .where(*_mine)
    .values(
        due_at=sa.bindparam("due", UTCDateTime()),
        attempts=_outbox.c.attempts + 1,
        last_error=sa.bindparam("error"),
        claim=None,
        claimed_until=None,
    )
)


@dataclass(frozen=True, slots=True)
class WaitingPost:
    """A post in the outbox."""

    id: int
    incident_id: int | None
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None
    author: str | None
    marker: str | None
    attempts: int


class OutboxRecords:
    """The outbox, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def add(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        due: datetime,
        now: datetime,
        error: str,
        incident_id: int | None = None,
        author: str | None = None,
        marker: str | None = None,
    ) -> None:
        """Keep a post to send again at `due` (it failed once already)."""
        row = OutboxRow(
            incident_id=incident_id,
            channel=channel,
            text=text,
            blocks=blocks,
            author=author,
            marker=marker,
            created_at=now,
            due_at=due,
            attempts=1,
            last_error=error[:100],
        )
        self._session.add(row)
        await self._session.flush()

    async def claim(self, *, now: datetime, lease: timedelta, token: str, limit: int) -> list[WaitingPost]:
        """Posts due by `now`, taken for `lease`, oldest first."""
        rows = await WAITING_POST.claim_due(self._session, now=now, lease=lease, token=token, limit=limit)
        return [
            WaitingPost(r.id, r.incident_id, r.channel, r.text, r.blocks, r.author, r.marker, r.attempts) for r in rows
        ]

    async def sent(self, post_id: int, *, token: str) -> None:
        """The post went out (or was given up): it leaves the outbox."""
        await self._session.exec(SENT, params={"row_id": post_id, "token": token})

    async def again_later(self, post_id: int, *, token: str, due: datetime, error: str) -> None:
        """Refused again: try once more at `due`."""
        params = {"row_id": post_id, "token": token, "due": due, "error": error[:100]}
        await self._session.exec(AGAIN_LATER, params=params)

    async def waiting(self) -> int:
        """How many posts are waiting."""
        return int((await self._session.exec(select(sa.func.count()).select_from(_outbox))).one())
