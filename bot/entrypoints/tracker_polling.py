"""The trackers' polling fallback, run by each replica: every LOOK_EVERY seconds it claims the open
follow-up issues due a poll (each is due every 10 minutes, and leased, so replicas share them) and asks
their trackers for their state (bot/usecases/tracker_sync.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field

from bot.runtime.background import transient
from bot.runtime.cancelling import raise_if_cancelling
from bot.usecases.tracker_sync import TrackerSync

log = logging.getLogger(__name__)

LOOK_EVERY = 30.0


@dataclass
class TrackerPolling:
    """A loop polling the issues due (nothing to do without trackers)."""

    sync: TrackerSync
    every: float = LOOK_EVERY
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        """Start the loop (inside the running loop); nothing when no tracker is configured."""
        if self.sync.trackers and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tocsin-tracker-polling")

    async def stop(self) -> None:
        """Stop the loop; issues it had claimed are polled again once their lease runs out."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                while await self.sync.poll_due(str(uuid.uuid4())):
                    pass
            except Exception as exc:
                raise_if_cancelling(exc)
                if not transient(exc):
                    log.exception("tracker polling failed; it looks again shortly")
            await asyncio.sleep(self.every)
