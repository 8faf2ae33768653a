"""The store of overrides and swaps made from Slack, their audit list, calendar feed tokens (`uow.shifts`)."""

from __future__ import annotations

from typing import Protocol


class ShiftStore(Protocol):
    """Overrides and swaps made from Slack, their audit list, calendar feed tokens."""
