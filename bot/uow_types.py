"""The shapes use cases depend on: a clock and a unit-of-work factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from storage.uow import UnitOfWork

Clock = Callable[[], datetime]
UnitOfWorkFactory = Callable[[], UnitOfWork]


def utc_now() -> datetime:
    """The wall clock, in UTC (the one place production reads it)."""
    return datetime.now(UTC)
