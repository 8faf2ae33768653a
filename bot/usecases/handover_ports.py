"""The store of handover notes, handoffs seen, round-robin turns, user-group syncs (`uow.handovers`)."""

from __future__ import annotations

from typing import Protocol


class HandoverStore(Protocol):
    """Handover notes, handoffs seen, round-robin turns, user-group syncs."""
