"""A cancel that comes back as another error: a database driver waiting on the network may turn the
CancelledError of a stopping loop into an error of its own. A loop that catches Exception to keep going
would then go round again, and whoever stops it would wait for ever."""

from __future__ import annotations

import asyncio


def raise_if_cancelling(error: BaseException) -> None:
    """Raise CancelledError (from `error`) when the current task is being cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error
