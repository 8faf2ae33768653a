"""Coalescing: many requests to refresh the same thing become at most one run in progress and one after.

Every caller returns only once a run that *started after its request* has finished, so what it changed
is shown; callers arriving while a run is in progress share the next one.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    """Runs `run(key)` on request, merging concurrent requests for the same key."""

    def __init__(self, run: Callable[[K], Awaitable[None]]) -> None:
        """Wrap the refresh function."""
        self._run = run
        self._requested: dict[K, int] = defaultdict(int)
        self._covered: dict[K, int] = defaultdict(int)
        self._locks: dict[K, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.runs = 0

    async def request(self, key: K) -> None:
        """Ask for a run for `key` and wait until one that saw this request has finished."""
        self._requested[key] += 1
        ticket = self._requested[key]
        async with self._locks[key]:
            if self._covered[key] >= ticket:
                return  # a run that started after our request already finished
            covers = self._requested[key]
            self.runs += 1
            await self._run(key)
            self._covered[key] = covers
