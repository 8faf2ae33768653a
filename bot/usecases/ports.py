"""The shapes use cases depend on: a clock and a unit-of-work factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # a type only: importing storage (SQLAlchemy) at run time costs `tocsin check` 0.3 s
    from storage.uow import UnitOfWork

Clock = Callable[[], datetime]


class UnitOfWorkFactory(Protocol):
    """Makes a unit of work; `read_only=True` for one that only reads (no write lock on SQLite)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


def utc_now() -> datetime:
    """The wall clock, in UTC (the one place production reads it)."""
    return datetime.now(UTC)
