"""Writers queued in this process: in the order they came, except that work someone is waiting on right
now (a page step on its way to a person, a person's command) goes ahead of bulk writes. SQLite has one
writer; on PostgreSQL as many write at once as the pool has connections, and the rest queue here (urgent
first) rather than in the pool's first-come queue.

In a storm, a SQLite process has hundreds of write transactions waiting (alert webhooks, the set-up steps
of a hundred declares); in plain arrival order a page step's three short transactions each waited seconds
behind them. `writes_first()` marks the current context (and the tasks it starts) as such work; nothing
else changes: a bulk writer still gets its turn as soon as no urgent one waits.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from contextvars import ContextVar

_urgent: ContextVar[bool] = ContextVar("tocsin_writes_first", default=False)

URGENT, IN_TURN = 0, 1


def writes_first() -> None:
    """The current context's write transactions go ahead of the queue (for the rest of this context)."""
    _urgent.set(True)


class WriterQueue:
    """Room for `capacity` writers at once (1: a lock, shaped like asyncio.Lock), whose waiters are served
    urgent first."""

    def __init__(self, capacity: int = 1) -> None:
        """Free, nobody waiting."""
        self._capacity = capacity
        self._held = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def locked(self) -> bool:
        """Whether it is full (a writer more would wait)."""
        return self._held >= self._capacity

    async def acquire(self) -> bool:
        """Wait for a writer's turn (ahead of the queue in a `writes_first()` context)."""
        if self._held < self._capacity and not self._waiting:
            self._held += 1
            return True
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (URGENT if _urgent.get() else IN_TURN, next(self._arrivals), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed the lock as it was cancelled: pass it on
                self.release()
            else:
                turn.cancel()  # skipped when its turn comes
            raise
        return True

    def release(self) -> None:
        """Hand the place to the first waiter (urgent ones first), or free it."""
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # it holds the place now
                return
        self._held -= 1
