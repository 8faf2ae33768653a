"""A doorbell: something happened that others want to act on at once (events committed, a page started).
Whoever rings it need not know who listens: those waiting on it wake, and those who answer it (given at
their construction) are called at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class Doorbell:
    """Rings for everyone waiting; a ring between taking `armed()` and waiting on it is not missed."""

    def __init__(self) -> None:
        """Not rung yet, nobody answering."""
        self._rung = asyncio.Event()
        self._answers: list[Callable[[], None]] = []

    def answer_with(self, answer: Callable[[], None]) -> None:
        """Call `answer()` at every ring (for an object that listens from its construction on)."""
        self._answers.append(answer)

    def ring(self) -> None:
        """Wake everyone waiting (and anyone who armed before this ring), and call every answer."""
        self._rung.set()
        self._rung = asyncio.Event()
        for answer in self._answers:
            answer()

    def armed(self) -> asyncio.Event:
        """The event the next ring sets: take it before looking, wait on it after."""
        return self._rung

    @staticmethod
    async def wait(armed: asyncio.Event, seconds: float) -> None:
        """Wait for the ring `armed` was taken for, or `seconds` at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(armed.wait(), seconds)
