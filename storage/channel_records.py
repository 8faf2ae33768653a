"""Bookmarks kept in incident channels, archives and continuation channels (`uow.channels`). Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

import storage.channel_models  # noqa: F401 - registers the tables


class ChannelRecords:
    """Bookmarks kept in incident channels, archives and continuation channels, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
