"""Follow-ups' issues in trackers, the inbound deliveries already handled, and the polling fallback's
leased timers (`uow.trackers`). Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.tracker_issues import FollowUpIssue, IssueRef, IssueState
from storage.core_sql import dialect_insert, table_of
from storage.leases import Lease
from storage.tracker_models import FollowUpIssueRow, TrackerDeliveryRow

_issues = table_of(FollowUpIssueRow)
# Only issues still open are polled (a closed one's poll_at is null, and its claim is never taken).
ISSUE_POLL = Lease(_issues, due="poll_at", claim="claim", until="claimed_until", where=[_issues.c.state == "open"])


class TrackerRecords:
    """Follow-up issues within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def issue_of(self, follow_up_id: int) -> FollowUpIssue | None:
        """The follow-up's issue (or the record of its refusal)."""
        row = (
            await self._session.exec(select(FollowUpIssueRow).where(col(FollowUpIssueRow.follow_up_id) == follow_up_id))
        ).first()
        return issue_from_row(row) if row is not None else None

    async def by_issue(self, tracker: str, issue_id: str) -> FollowUpIssue | None:
        """The follow-up issue of a tracker's issue."""
        statement = select(FollowUpIssueRow).where(
            col(FollowUpIssueRow.tracker) == tracker, col(FollowUpIssueRow.issue_id) == issue_id
        )
        row = (await self._session.exec(statement)).first()
        return issue_from_row(row) if row is not None and issue_id else None

    async def made(self, follow_up_id: int, tracker: str, ref: IssueRef, *, now: datetime, poll_at: datetime) -> bool:
        """Record the issue made for a follow-up (replacing a refusal); False if it already had one."""
        values = {
            "tracker": tracker,
            "issue_id": ref.id,
            "key": ref.key,
            "url": ref.url,
            "state": "open",
            "created_at": now,
            "last_synced_at": now,
            "failed_reason": None,
            "poll_at": poll_at,
        }
        inserted = await self._session.exec(
            dialect_insert(self._session, FollowUpIssueRow)
            .values(follow_up_id=follow_up_id, **values)
            .on_conflict_do_nothing(index_elements=[col(FollowUpIssueRow.follow_up_id)])
        )
        if inserted.rowcount:
            return True
        replaced = await self._session.exec(
            sa.update(FollowUpIssueRow)
            .where(col(FollowUpIssueRow.follow_up_id) == follow_up_id, col(FollowUpIssueRow.issue_id) == "")
            .values(**values)
        )
        return bool(replaced.rowcount)

    async def refused(self, follow_up_id: int, tracker: str, reason: str, *, now: datetime) -> bool:
        """Record that the tracker refused to make it; False if a refusal or issue was recorded already."""
        inserted = await self._session.exec(
            dialect_insert(self._session, FollowUpIssueRow)
            .values(
                follow_up_id=follow_up_id,
                tracker=tracker,
                issue_id="",
                key="",
                url="",
                state="open",
                created_at=now,
                failed_reason=reason[:200],
            )
            .on_conflict_do_nothing(index_elements=[col(FollowUpIssueRow.follow_up_id)])
        )
        return bool(inserted.rowcount)

    async def set_state(self, follow_up_id: int, state: IssueState, *, now: datetime) -> bool:
        """Record the issue's state; False when it was so already (nothing changed). A closed issue is no
        longer polled; a reopened one is polled again from now."""
        result = await self._session.exec(
            sa.update(FollowUpIssueRow)
            .where(
                col(FollowUpIssueRow.follow_up_id) == follow_up_id,
                col(FollowUpIssueRow.issue_id) != "",
                col(FollowUpIssueRow.state) != state,
            )
            .values(state=state, last_synced_at=now, poll_at=now if state == "open" else None)
        )
        return bool(result.rowcount)

    async def first_delivery(self, tracker: str, delivery_id: str, *, now: datetime) -> bool:
        """Note an inbound webhook's delivery; False if it was seen already (a redelivery, or another replica)."""
        statement = (
            dialect_insert(self._session, TrackerDeliveryRow)
            .values(tracker=tracker, delivery_id=delivery_id[:128], received_at=now)
            .on_conflict_do_nothing()
        )
        return bool((await self._session.exec(statement)).rowcount)

    async def claim_polls(self, *, now: datetime, lease: timedelta, token: str, limit: int) -> list[FollowUpIssue]:
        """Take open issues due a poll (leased: another replica takes none of them meanwhile)."""
        rows = await ISSUE_POLL.claim_due(self._session, now=now, lease=lease, token=token, limit=limit)
        return [issue_from_row(row) for row in rows]

    async def polled(self, follow_up_id: int, *, token: str, now: datetime, next_at: datetime) -> None:
        """Give a polled issue's claim back, with its next poll (if it is still open)."""
        await self._session.exec(
            sa.update(FollowUpIssueRow)
            .where(col(FollowUpIssueRow.follow_up_id) == follow_up_id, col(FollowUpIssueRow.claim) == token)
            .values(
                claim=None,
                claimed_until=None,
                last_synced_at=now,
                poll_at=sa.case((col(FollowUpIssueRow.state) == "open", next_at), else_=None),
            )
        )


def issue_from_row(row: FollowUpIssueRow | sa.Row[Any]) -> FollowUpIssue:
    """A follow-up issue from its row (an ORM object or a plain row of the same columns)."""
    return FollowUpIssue(
        follow_up_id=row.follow_up_id,
        tracker=row.tracker,
        issue_id=row.issue_id,
        key=row.key,
        url=row.url,
        state=cast(IssueState, row.state),
        created_at=row.created_at,
        last_synced_at=row.last_synced_at,
        failed_reason=row.failed_reason,
    )
