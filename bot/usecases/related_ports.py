"""The store of full-text search over incidents and the links between related incidents (`uow.related`)."""

from __future__ import annotations

from typing import Protocol


class RelatedStore(Protocol):
    """Full-text search over incidents and the links between related incidents."""
