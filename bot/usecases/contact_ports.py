"""The store of people's contact methods and rules, verification codes, contact attempts (`uow.contacts`)."""

from __future__ import annotations

from typing import Protocol


class ContactStore(Protocol):
    """People's contact methods and rules, verification codes, contact attempts."""
