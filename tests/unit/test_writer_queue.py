"""SQLite's writer queue: writers take turns in arrival order, work marked `writes_first()` goes ahead of
every bulk writer still waiting, and a writer cancelled while waiting neither holds nor loses the lock."""

from __future__ import annotations

import asyncio
import contextvars

from storage.writer_queue import WriterQueue, writes_first
from tests.conftest import eventually


async def test_urgent_writers_go_ahead_of_bulk_ones_and_the_rest_keep_their_order() -> None:
    queue = WriterQueue()
    order: list[str] = []
    await queue.acquire()  # a long write holds the writer

    async def write(name: str, *, urgent: bool = False) -> None:
        if urgent:
            writes_first()
        await queue.acquire()
        order.append(name)
        queue.release()

    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(write(name, urgent=name.startswith("page")), context=contextvars.Context())
        for name in ("bulk-1", "bulk-2", "page-1", "bulk-3", "page-2")
    ]
    await eventually(lambda: len(queue._waiting) == len(tasks), what="every writer waiting")
    queue.release()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert order == ["page-1", "page-2", "bulk-1", "bulk-2", "bulk-3"]
    assert not queue.locked()


async def test_a_writer_cancelled_while_waiting_is_skipped() -> None:
    queue = WriterQueue()
    await queue.acquire()
    cancelled = asyncio.create_task(queue.acquire())
    waiting = asyncio.create_task(queue.acquire())
    await eventually(lambda: len(queue._waiting) == 2, what="both waiting")
    cancelled.cancel()
    queue.release()
    assert await asyncio.wait_for(waiting, 10)
    assert cancelled.cancelled() and queue.locked()
    queue.release()
    assert not queue.locked()


async def test_with_room_for_two_two_write_at_once_and_the_third_waits_its_turn() -> None:
    queue = WriterQueue(capacity=2)
    assert await queue.acquire() and await queue.acquire()
    assert queue.locked()
    third = asyncio.create_task(queue.acquire())
    await eventually(lambda: len(queue._waiting) == 1, what="the third waiting")
    assert not third.done()
    queue.release()  # one of the two finished: its place goes to the third
    assert await asyncio.wait_for(third, 10) and queue.locked()
    queue.release()
    queue.release()
    assert not queue.locked() and queue._held == 0
