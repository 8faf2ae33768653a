"""Full-text search over incidents and the links between related incidents (`uow.related`). Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

import storage.related_models  # noqa: F401 - registers the tables


class RelatedRecords:
    """Full-text search over incidents and the links between related incidents, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
