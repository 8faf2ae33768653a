"""Group commit: a burst of writes becomes a few batches, each caller returns once its own batch has
committed, and a failed batch fails only its own callers."""

from __future__ import annotations

import asyncio

import pytest

from bot.runtime.group_commit import GroupCommit


async def test_a_burst_of_writes_is_a_few_batches_and_every_item_is_written_before_its_caller_returns() -> None:
    written: list[int] = []
    returned_after_written: list[bool] = []

    async def write(batch: list[int]) -> None:
        await asyncio.sleep(0)  # a transaction takes a moment: the rest of the burst gathers meanwhile
        written.extend(batch)

    group = GroupCommit(write)

    async def add(n: int) -> None:
        await group.add(n)
        returned_after_written.append(n in written)

    await asyncio.gather(*(add(n) for n in range(50)))
    assert sorted(written) == list(range(50)) and all(returned_after_written)
    assert group.batches <= 2


async def test_a_failed_batch_fails_its_own_callers_and_the_next_batch_goes_on() -> None:
    written: list[str] = []

    async def write(batch: list[str]) -> None:
        await asyncio.sleep(0)
        if "bad" in batch:
            raise RuntimeError("database refused")
        written.extend(batch)

    group = GroupCommit(write)
    first = asyncio.gather(group.add("bad"), group.add("with it"), return_exceptions=True)
    assert [type(r) for r in await first] == [RuntimeError, RuntimeError]
    await group.add("later")
    assert written == ["later"]
    with pytest.raises(RuntimeError):
        await group.add("bad")
