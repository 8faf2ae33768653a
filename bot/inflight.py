"""Work that was acknowledged to Slack and is still running, so shutdown can let it finish."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.metrics import Metrics


class InFlight:
    """Counts acknowledged work; `drain()` waits for it after the process stops taking new work."""

    def __init__(self, metrics: Metrics) -> None:
        """Start with nothing in flight."""
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._metrics = metrics

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Mark the enclosed work as in flight."""
        self._count += 1
        self._idle.clear()
        self._metrics.work_in_flight.inc()
        try:
            yield
        finally:
            self._count -= 1
            self._metrics.work_in_flight.dec()
            if self._count == 0:
                self._idle.set()

    @property
    def count(self) -> int:
        """How many pieces of work are running."""
        return self._count

    async def drain(self, within: float) -> bool:
        """Wait until nothing is in flight; False if `within` seconds passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True
