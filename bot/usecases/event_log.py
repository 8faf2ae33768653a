"""What a durable subscriber of the event log is: a name, the kinds it wants, and how it handles one event.

A subscriber is handed each event it wants at least once (again after a crash between handling and
recording it), in order within each incident (or page, or alert group), so `handle` must be idempotent,
keyed by the event's id. Raising asks for the event again later, with backoff; the rest of that incident's
events wait for it, while other incidents' events, and every other subscriber, go on.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from bot.domain.events import DomainEvent, EventKind


class Subscriber(Protocol):
    """A durable consumer of the event log."""

    @property
    def name(self) -> str:
        """Stable across restarts and replicas: its backlog is kept under this name (64 characters at most)."""
        ...

    @property
    def kinds(self) -> Collection[EventKind] | None:
        """The kinds it wants (None: every kind). Only these are stored for it."""
        ...

    async def handle(self, event: DomainEvent) -> None:
        """Act on one event; raise to have it handed over again later."""
        ...

    # A subscriber may also have a `batch` attribute (an int): how many deliveries one claim takes, smaller
    # than the dispatch's default when handling is slow, so a claim's work fits inside its lease.
