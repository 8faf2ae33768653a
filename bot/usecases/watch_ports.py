"""The store of heartbeats and maintenance windows (`uow.watch`)."""

from __future__ import annotations

from typing import Protocol


class WatchStore(Protocol):
    """Heartbeats and maintenance windows."""
