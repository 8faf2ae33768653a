"""Handover notes, handoffs seen, round-robin turns, user-group syncs (`uow.handovers`). Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

import storage.handover_models  # noqa: F401 - registers the tables


class HandoverRecords:
    """Handover notes, handoffs seen, round-robin turns, user-group syncs, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
