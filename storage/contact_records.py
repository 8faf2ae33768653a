"""People's contact methods and rules, verification codes, contact attempts (`uow.contacts`). Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

import storage.contact_models  # noqa: F401 - registers the tables


class ContactRecords:
    """People's contact methods and rules, verification codes, contact attempts, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session
