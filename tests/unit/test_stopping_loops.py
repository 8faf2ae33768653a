"""Stopping loops whose work is cut short by a cancel that comes back as another error (a database
driver waiting on the network may turn the CancelledError into its own): the loop stops, not goes round
again with whoever stops it waiting for ever. Seen in CI: the event log's subscriber loop kept a stop
waiting after a test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest

from bot.entrypoints.event_dispatch import EventDispatch
from bot.runtime.cancelling import raise_if_cancelling
from bot.runtime.metrics import Metrics

STOP_WITHIN = 30.0  # generous for a loaded machine; a loop that goes round again never stops at all


class DriverError(Exception):
    """What a driver raised instead of the CancelledError of the query it was waiting on."""


class HangingSession:
    """A unit of work whose connection never comes; cancelled, it raises the driver's own error."""

    converting = True  # the test's own clean-up turns this off, so that even a failing loop ends

    def __init__(self, entered: asyncio.Event) -> None:
        self.entered = entered

    async def __aenter__(self) -> HangingSession:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError as cancelled:
            if not HangingSession.converting:
                raise
            raise DriverError("connection was closed in the middle of operation") from cancelled
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None


class Quiet:
    name = "quiet"
    kinds = None

    async def handle(self, event: Any) -> None:
        return None


async def test_a_subscriber_loop_cut_short_by_a_driver_error_still_stops() -> None:
    entered = asyncio.Event()
    dispatch = EventDispatch(lambda **_: HangingSession(entered), [Quiet()], lambda: datetime.now(UTC), Metrics())  # type: ignore[arg-type]
    dispatch.start(every=0.01)
    await asyncio.wait_for(entered.wait(), STOP_WITHIN)
    stopping = asyncio.create_task(dispatch.stop())
    try:
        done, _ = await asyncio.wait({stopping}, timeout=STOP_WITHIN)  # fails, not hangs, if it goes round
        assert done, "the subscriber loop went round again instead of stopping"
    finally:
        HangingSession.converting = False
        loops = [*dispatch._loops, stopping]
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)


async def test_only_a_task_being_cancelled_turns_the_error_back_into_a_cancel() -> None:
    raise_if_cancelling(DriverError("not stopping"))  # nothing: the loop carries on

    async def loop() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError as cancelled:
            raise_if_cancelling(DriverError("stopping"))
            raise AssertionError("not reached") from cancelled

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
