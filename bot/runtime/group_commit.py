"""Group commit: many small writes asked for at about the same time become one transaction.

While one batch is being written, the writes asked for meanwhile gather; the next batch takes them all.
Each caller returns once the batch holding its write has committed (or raises that batch's error), so a
burst of N writes costs a few transactions instead of N, and a lone write waits for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Writes items in batches with `write(batch)`, one batch at a time."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        """`write` stores a whole batch in one transaction (all or nothing)."""
        self._write = write
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0

    async def add(self, item: T) -> None:
        """Write `item` with whatever else is waiting; returns once it is committed."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        await asyncio.shield(done)  # a caller cancelled does not cancel the others' batch

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            self.batches += 1
            try:
                await self._write([item for item, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
