"""Coalescing refreshes."""

import asyncio
import itertools
import time

from bot.coalesce import Coalescer


async def test_a_burst_of_requests_runs_at_most_twice_and_everyone_sees_their_change() -> None:
    state = {"value": 0, "shown": []}

    async def render(_key: str) -> None:
        seen = state["value"]
        await asyncio.sleep(0.01)
        state["shown"].append(seen)

    coalescer = Coalescer(render)

    async def change_and_refresh(n: int) -> int:
        state["value"] = n
        await coalescer.request("inc-1")
        return state["shown"][-1]

    shown = await asyncio.gather(*(change_and_refresh(n) for n in range(1, 51)))
    assert coalescer.runs <= 2
    assert state["shown"][-1] == 50
    assert all(last >= n for n, last in zip(range(1, 51), shown, strict=True))


async def test_keys_do_not_wait_for_each_other() -> None:
    ran: list[str] = []

    async def render(key: str) -> None:
        ran.append(key)

    coalescer = Coalescer(render)
    await asyncio.gather(coalescer.request("a"), coalescer.request("b"))
    assert sorted(ran) == ["a", "b"]


async def test_runs_for_one_key_start_at_least_min_interval_apart() -> None:
    starts: list[float] = []

    async def render(_key: str) -> None:
        starts.append(time.monotonic())

    coalescer = Coalescer(render, min_interval=0.05)
    await coalescer.request("k")
    await coalescer.request("k")
    await coalescer.request("k")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 3 and all(gap >= 0.045 for gap in gaps)
