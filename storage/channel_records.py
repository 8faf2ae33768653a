"""Bookmarks kept in incident channels (and the alert links they are made from), archives and continuation
channels (`uow.channels`). Never commits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.channel_models  # noqa: F401 - registers the tables
from bot.domain.archives import IncidentChannel
from bot.domain.bookmarks import KeptBookmark
from storage.channel_models import ChannelBookmarkRow, IncidentChannelRow
from storage.core_sql import dialect_insert
from storage.models import AlertGroupRow

_REFUSAL_LENGTH = 100


class ChannelRecords:
    """Bookmarks kept in incident channels, archives and continuation channels, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    # ----- bookmarks -------------------------------------------------------------------------------
    async def kept_bookmarks(self, channel_id: str) -> list[KeptBookmark]:
        """The bookmarks Tocsin made in a channel."""
        rows = await self._session.exec(
            select(ChannelBookmarkRow)
            .where(ChannelBookmarkRow.channel_id == channel_id)
            .order_by(col(ChannelBookmarkRow.id))
        )
        return [KeptBookmark(r.kind, r.key, r.bookmark_id, r.title, r.link) for r in rows.all()]

    async def bookmark_made(self, incident_id: int, channel_id: str, made: KeptBookmark) -> None:
        """Remember a bookmark Slack made (replacing what was kept for the same thing)."""
        values = {"bookmark_id": made.bookmark_id, "title": made.title, "link": made.link}
        insert = dialect_insert(self._session, ChannelBookmarkRow).values(
            incident_id=incident_id, channel_id=channel_id, kind=made.kind, key=made.key, **values
        )
        await self._session.exec(
            insert.on_conflict_do_update(index_elements=["channel_id", "kind", "key"], set_=values)
        )

    async def bookmark_edited(self, channel_id: str, kind: str, key: str, *, title: str, link: str) -> None:
        """Remember a bookmark's new title and link."""
        await self._session.exec(
            sa.update(ChannelBookmarkRow).where(*_bookmark(channel_id, kind, key)).values(title=title, link=link)
        )

    async def bookmark_removed(self, channel_id: str, kind: str, key: str) -> None:
        """Forget a bookmark Slack no longer has."""
        await self._session.exec(sa.delete(ChannelBookmarkRow).where(*_bookmark(channel_id, kind, key)))

    async def alert_link(self, incident_id: int) -> str | None:
        """The link of the alert group an incident was declared from (its first alert's that had one)."""
        rows = await self._session.exec(
            select(AlertGroupRow.url)
            .where(AlertGroupRow.incident_id == incident_id, col(AlertGroupRow.url).is_not(None))
            .order_by(col(AlertGroupRow.id))
            .limit(1)
        )
        return rows.first()

    # ----- the channels an incident had ------------------------------------------------------------
    async def remember(self, incident_id: int, channel_id: str, name: str) -> None:
        """Record a channel of the incident (kept as it is when recorded already)."""
        insert = dialect_insert(self._session, IncidentChannelRow).values(
            channel_id=channel_id, incident_id=incident_id, name=name[:80]
        )
        await self._session.exec(insert.on_conflict_do_nothing(index_elements=["channel_id"]))

    async def channel(self, channel_id: str) -> IncidentChannel | None:
        """A recorded channel."""
        row = await self._session.get(IncidentChannelRow, channel_id)
        return _channel(row) if row is not None else None

    async def channels_of(self, incident_id: int) -> list[IncidentChannel]:
        """Every channel the incident had, in the order they were recorded (by archive or continuation)."""
        rows = await self._session.exec(select(IncidentChannelRow).where(IncidentChannelRow.incident_id == incident_id))
        return sorted((_channel(r) for r in rows.all()), key=lambda c: (c.archived_at is None, c.archived_at))

    async def change(self, channel_id: str, **values: Any) -> None:
        """Set a recorded channel's archive_due, warning_ts, kept_by, archived_at or continued_in."""
        await self._session.exec(
            sa.update(IncidentChannelRow).where(col(IncidentChannelRow.channel_id) == channel_id).values(**values)
        )

    async def first_refusal(self, channel_id: str, reason: str) -> bool:
        """Note that Slack refused bookmarks in a channel; whether this is the first time (log it then)."""
        result = await self._session.exec(
            sa.update(IncidentChannelRow)
            .where(
                col(IncidentChannelRow.channel_id) == channel_id, col(IncidentChannelRow.bookmarks_refused).is_(None)
            )
            .values(bookmarks_refused=reason[:_REFUSAL_LENGTH])
        )
        return bool(result.rowcount)


def _bookmark(channel_id: str, kind: str, key: str) -> list[sa.ColumnElement[bool]]:
    return [
        col(ChannelBookmarkRow.channel_id) == channel_id,
        col(ChannelBookmarkRow.kind) == kind,
        col(ChannelBookmarkRow.key) == key,
    ]


def _channel(row: IncidentChannelRow) -> IncidentChannel:
    return IncidentChannel(
        incident_id=row.incident_id,
        channel_id=row.channel_id,
        name=row.name,
        archive_due=row.archive_due,
        warning_ts=row.warning_ts,
        kept_by=row.kept_by,
        archived_at=row.archived_at,
        continued_in=row.continued_in,
        bookmarks_refused=row.bookmarks_refused,
    )
