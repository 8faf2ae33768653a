"""Coalescing: many requests to refresh the same thing become at most one run in progress and one after,
and runs for one key start at least `min_interval` seconds apart.

Every caller returns only once a run that *started after its request* has finished, so what it changed
is shown; callers arriving while a run is in progress (or waiting out the interval) share the next one.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from math import inf
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
_SWEEP_AT = 256  # keys held before idle ones are forgotten (then twice as many as remain)


class Coalescer(Generic[K]):
    """Runs `run(key)` on request, merging concurrent requests for the same key."""

    def __init__(self, run: Callable[[K], Awaitable[None]], *, min_interval: float = 0.0) -> None:
        """Wrap the refresh function; runs for the same key start `min_interval` seconds apart."""
        self._run = run
        self._min_interval = min_interval
        self._last_start: dict[K, float] = {}
        self._requested: dict[K, int] = defaultdict(int)
        self._covered: dict[K, int] = defaultdict(int)
        self._locks: dict[K, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._sweep_at = _SWEEP_AT
        self.runs = 0

    async def request(self, key: K) -> None:
        """Ask for a run for `key` and wait until one that saw this request has finished."""
        self._requested[key] += 1
        ticket = self._requested[key]
        async with self._locks[key]:
            if self._covered[key] >= ticket:
                return  # a run that started after our request already finished
            wait = self._last_start.get(key, -inf) + self._min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # requests arriving meanwhile are covered by this run
            covers = self._requested[key]
            self._last_start[key] = time.monotonic()
            self.runs += 1
            await self._run(key)
            self._covered[key] = covers
        if len(self._locks) > self._sweep_at:
            self._forget_idle()

    def _forget_idle(self) -> None:
        """Drop the state of keys nobody waits for and whose interval has passed: one entry per incident
        ever refreshed would otherwise stay for the life of the process."""
        now = time.monotonic()
        for key in list(self._locks):
            idle = not self._locks[key].locked() and self._covered[key] >= self._requested[key]
            if idle and self._last_start.get(key, -inf) + self._min_interval <= now:
                for state in (self._locks, self._requested, self._covered, self._last_start):
                    state.pop(key, None)
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._locks))
