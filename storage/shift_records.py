"""Overrides and swaps made from Slack, their audit list, calendar feed tokens (`uow.shifts`). Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

import storage.shift_models  # noqa: F401 - registers the tables


class ShiftRecords:
    """Overrides and swaps made from Slack, their audit list, calendar feed tokens, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
