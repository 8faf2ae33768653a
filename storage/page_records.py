"""Queries over pages and their notifications (their steps are claimed and recorded in
storage/timer_records.py). Never commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.escalation import ACKNOWLEDGED, CANCELLED, TRIGGERED, Notification, Page, Plan
from bot.domain.page_digests import MAX_DIGEST_PAGES, Digest, DigestEntry
from storage.core_sql import DialectInsert, dialect_of, inserts_by_dialect, run, table_of
from storage.models import IncidentRow, PageDigestRow, PageNotificationRow, PageRow

_PAGES = table_of(PageRow)
_NOTIFICATIONS = table_of(PageNotificationRow)
_DIGESTS = table_of(PageDigestRow)


def _keep_existing(insert: DialectInsert) -> DialectInsert:
    return insert.on_conflict_do_nothing(index_elements=["page_id", "round", "tier", "user_id"])


# Who a step is about to page, written before its DMs go out; a row already there (the step retried, or
# recorded) keeps its DM.
_EXPECT = inserts_by_dialect(_NOTIFICATIONS, _keep_existing)


class Stopped(NamedTuple):
    """Pages stopped: those cancelled (nobody had acknowledged them), and those whose ack timeout stopped."""

    cancelled: list[int]
    timeouts_stopped: list[int]


class PageRecords:
    """Pages within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def start(
        self,
        *,
        team_id: str,
        incident_id: int | None,
        title: str,
        severity: str,
        source: str,
        plan: Plan,
        created_by: str,
        now: datetime,
        dedup_key: str | None = None,
    ) -> int:
        """Store a new page whose first step is due now."""
        values = dict(
            team_id=team_id,
            incident_id=incident_id,
            title=title,
            severity=severity,
            source=source,
            plan=plan.to_json(),
            status=TRIGGERED,
            next_step_at=now,
            created_by=created_by,
            created_at=now,
            dedup_key=dedup_key,
            tier=0,
            round=0,
        )
        inserted = await self._session.exec(sa.insert(_PAGES).values(values).returning(_PAGES.c.id))
        return int(inserted.scalar_one())

    async def get(self, page_id: int) -> Page | None:
        """A page by id."""
        row = await self._session.get(PageRow, page_id, populate_existing=True)  # as it is after any UPDATE
        return page_from_row(row) if row else None

    async def for_incident(self, incident_id: int) -> list[Page]:
        """An incident's pages, oldest first."""
        statement = select(PageRow).where(PageRow.incident_id == incident_id).order_by(col(PageRow.id))
        return [page_from_row(r) for r in (await self._session.exec(statement)).all()]

    async def acknowledge(self, page_id: int, *, user_id: str, now: datetime, reopens_at: datetime | None) -> bool:
        """Stop the escalation (until `reopens_at`, the plan's ack_timeout, if any); True only for the
        first acknowledgement (one UPDATE, no race)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(
                status=ACKNOWLEDGED,
                acknowledged_by=user_id,
                acknowledged_at=now,
                next_step_at=reopens_at,
                claim=None,
                claimed_until=None,
            )
        )
        return bool(result.rowcount)

    async def renew_acknowledgement(self, page_id: int, *, reopens_at: datetime) -> bool:
        """Acknowledged again: the ack timeout starts over; False when none is running (the page is no
        longer acknowledged, or its incident or alert was resolved)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(
                col(PageRow.id) == page_id,
                col(PageRow.status) == ACKNOWLEDGED,
                col(PageRow.next_step_at).is_not(None),  # an ack timeout still running (not resolved)
            )
            .values(next_step_at=reopens_at)
        )
        return bool(result.rowcount)

    async def cancel(self, page_id: int) -> Stopped:
        """Stop a page (its alert resolved): cancelled if nobody acknowledged it, or its ack timeout
        stopped if it was acknowledged."""
        return await self._stop(_PAGES.c.id == page_id)

    async def stop_for_incident(self, incident_id: int) -> Stopped:
        """The incident is resolved: cancel its pages still escalating and stop its ack timeouts."""
        return await self._stop(_PAGES.c.incident_id == incident_id)

    async def _stop(self, which: sa.ColumnElement[bool]) -> Stopped:
        cancel = (
            sa.update(_PAGES)
            .where(which, _PAGES.c.status == TRIGGERED)
            .values(status=CANCELLED, next_step_at=None)
            .returning(_PAGES.c.id)
        )
        stop_timeout = (
            sa.update(_PAGES)
            .where(which, _PAGES.c.status == ACKNOWLEDGED, _PAGES.c.next_step_at.is_not(None))
            .values(next_step_at=None)
            .returning(_PAGES.c.id)
        )
        cancelled = [int(i) for i in (await self._session.exec(cancel)).scalars()]
        timeouts_stopped = [int(i) for i in (await self._session.exec(stop_timeout)).scalars()]
        return Stopped(cancelled, timeouts_stopped)

    async def escalate_now(self, page_id: int, *, now: datetime) -> bool:
        """Make the next step due at once (someone declined)."""
        result = await self._session.exec(
            sa.update(PageRow)
            .where(col(PageRow.id) == page_id, col(PageRow.status) == TRIGGERED)
            .values(next_step_at=now)
        )
        return bool(result.rowcount)

    async def expect(self, page_id: int, *, round: int, tier: int, users: list[str], now: datetime) -> None:
        """Write ahead who a step is about to page (no DM yet), so a person who answers the DM the instant
        it arrives, or after a crash before the step was recorded, is known as someone it paged."""
        if not users:
            return
        rows = [
            {
                "page_id": page_id,
                "round": round,
                "tier": tier,
                "user_id": u,
                "sent_at": now,
                "channel": None,
                "ts": None,
            }
            for u in users
        ]
        await self._session.exec(_EXPECT[dialect_of(self._session)], params=rows)

    async def notifications(self, page_id: int) -> list[Notification]:
        """Everyone a page has notified so far (or is notifying now; the DM's channel is None until sent)."""
        statement = select(PageNotificationRow).where(PageNotificationRow.page_id == page_id)
        return [
            Notification(r.user_id, r.round, r.tier, r.channel, r.ts, r.digest_id)
            for r in (await self._session.exec(statement)).all()
        ]

    # ----- digests: a storm's pages to one person in one DM -----------------------------------------
    async def recent_dms(self, user_id: str, *, since: datetime, other_than: Collection[int]) -> int:
        """How many page DMs `user_id` was sent (or is being sent) since `since`, for pages other than these."""
        statement = (
            select(sa.func.count())
            .select_from(PageNotificationRow)
            .where(
                col(PageNotificationRow.user_id) == user_id,
                col(PageNotificationRow.sent_at) >= since,
                col(PageNotificationRow.page_id).not_in(other_than),
            )
        )
        return int((await self._session.exec(statement)).one())

    async def open_digest(self, user_id: str, *, since: datetime) -> Digest | None:
        """The person's digest still gathering pages (one joined since `since`, and not full), if any."""
        statement = (
            select(PageDigestRow)
            .where(
                col(PageDigestRow.user_id) == user_id,
                col(PageDigestRow.last_added_at) >= since,
                col(PageDigestRow.pages) < MAX_DIGEST_PAGES,
            )
            .order_by(col(PageDigestRow.id).desc())
            .limit(1)
        )
        row = (await self._session.exec(statement)).first()
        return Digest(row.id, row.user_id, row.channel, row.ts) if row and row.id is not None else None

    async def new_digest(self, user_id: str, *, now: datetime) -> Digest:
        """Start a digest for a person (posted once its first page has joined)."""
        row = PageDigestRow(user_id=user_id, opened_at=now, last_added_at=now, pages=0)
        self._session.add(row)
        await self._session.flush()
        assert row.id is not None
        return Digest(row.id, user_id, None, None)

    async def join_digest(
        self, digest_id: int, *, page_id: int, round: int, tier: int, user_id: str, now: datetime
    ) -> None:
        """A page step's DM to `user_id` is shown in the digest (its write-ahead row points at it)."""
        await self._session.exec(
            sa.update(PageNotificationRow)
            .where(
                col(PageNotificationRow.page_id) == page_id,
                col(PageNotificationRow.round) == round,
                col(PageNotificationRow.tier) == tier,
                col(PageNotificationRow.user_id) == user_id,
            )
            .values(digest_id=digest_id)
        )
        await self._session.exec(
            sa.update(PageDigestRow)
            .where(col(PageDigestRow.id) == digest_id)
            .values(pages=PageDigestRow.pages + 1, last_added_at=now)
        )

    async def digest_posted(self, digest_id: int, *, channel: str, ts: str) -> None:
        """The digest's DM exists."""
        await self._session.exec(
            sa.update(PageDigestRow).where(col(PageDigestRow.id) == digest_id).values(channel=channel, ts=ts)
        )

    async def digest(self, digest_id: int) -> Digest | None:
        """A digest with its pages as they are now, oldest first."""
        row = await self._session.get(PageDigestRow, digest_id, populate_existing=True)
        if row is None or row.id is None:
            return None
        statement = (
            sa.select(_PAGES, col(IncidentRow.channel_id))
            .join(_NOTIFICATIONS, _NOTIFICATIONS.c.page_id == _PAGES.c.id)
            .outerjoin(IncidentRow, col(IncidentRow.id) == _PAGES.c.incident_id)
            .where(_NOTIFICATIONS.c.digest_id == digest_id)
            .order_by(_PAGES.c.id)
        )
        entries: dict[int, DigestEntry] = {}
        for r in (await run(self._session, statement)).all():
            entries[r.id] = DigestEntry(r.id, r.title, r.severity, r.status, r.acknowledged_by, r.channel_id)
        return Digest(row.id, row.user_id, row.channel, row.ts, tuple(entries.values()))

    async def digests_among(self, messages: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which of these DMs (channel, ts) are digests, and whose id."""
        if not messages:
            return {}
        stamps = sorted({ts for _, ts in messages})
        statement = sa.select(_DIGESTS.c.channel, _DIGESTS.c.ts, _DIGESTS.c.id).where(_DIGESTS.c.ts.in_(stamps))
        found = {(channel, ts): int(i) for channel, ts, i in (await run(self._session, statement)).all()}
        return {m: found[m] for m in messages if m in found}

    async def pages_in_digest(self, digest_id: int, *, user_id: str) -> list[int]:
        """The pages of a digest that `user_id` was paged by and that are still escalating."""
        statement = (
            sa.select(_PAGES.c.id)
            .join(_NOTIFICATIONS, _NOTIFICATIONS.c.page_id == _PAGES.c.id)
            .where(
                _NOTIFICATIONS.c.digest_id == digest_id,
                _NOTIFICATIONS.c.user_id == user_id,
                _PAGES.c.status == TRIGGERED,
            )
            .distinct()
            .order_by(_PAGES.c.id)
        )
        return [int(i) for i in (await run(self._session, statement)).scalars()]


def page_from_row(row: PageRow | sa.Row[Any]) -> Page:
    """A page from its row (an ORM object or a plain row of the same columns)."""
    assert row.id is not None
    return Page(
        id=row.id,
        team_id=row.team_id,
        incident_id=row.incident_id,
        title=row.title,
        severity=row.severity,
        source=row.source,
        plan=Plan.from_json(row.plan),
        status=row.status,
        tier=row.tier,
        round=row.round,
        next_step_at=row.next_step_at,
        created_by=row.created_by,
        created_at=row.created_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )
