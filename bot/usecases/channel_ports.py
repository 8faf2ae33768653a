"""The store of bookmarks kept in incident channels, archives and continuation channels (`uow.channels`)."""

from __future__ import annotations

from typing import Protocol


class ChannelStore(Protocol):
    """Bookmarks kept in incident channels, archives and continuation channels."""
