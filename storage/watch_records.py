"""Heartbeats and maintenance windows (`uow.watch`). Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

import storage.watch_models  # noqa: F401 - registers the tables


class WatchRecords:
    """Heartbeats and maintenance windows, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
