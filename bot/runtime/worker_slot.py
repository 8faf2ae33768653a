"""The background worker a job holds, so a job about to wait for Slack can give it back.

A job that waits for Slack's pace (about one post a second per channel, a method's rate tier, a 429's
Retry-After) is not working: it only sleeps. Holding a worker while it sleeps is how a storm of posts to
one channel once took every worker. So the wait gives the worker back first, and the job finishes outside
the pool (still tracked: a stop waits for it).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

_slot: ContextVar[asyncio.Event | None] = ContextVar("tocsin_worker_slot", default=None)


def hold(slot: asyncio.Event | None) -> None:
    """Note the worker the current job runs on (setting `slot` gives it back); None outside the pool."""
    _slot.set(slot)


def give_back() -> None:
    """Let the current job's worker take the next job; this job goes on outside the pool."""
    slot = _slot.get()
    if slot is not None:
        slot.set()


async def wait_for_slack(seconds: float) -> None:
    """Sleep `seconds` (Slack's pace, a Retry-After) without holding a worker someone else needs."""
    if seconds <= 0:
        return
    give_back()
    await asyncio.sleep(seconds)
