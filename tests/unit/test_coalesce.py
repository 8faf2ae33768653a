"""Coalescing refreshes."""

import asyncio
import itertools
import time
from dataclasses import dataclass, field

from bot.runtime.coalesce import Coalescer


@dataclass
class Page:
    """A value that changes and every value a render has shown, in order."""

    value: int = 0
    shown: list[int] = field(default_factory=list)


async def test_a_burst_of_requests_runs_at_most_twice_and_everyone_sees_their_change() -> None:
    state = Page()

    async def render(_key: str) -> None:
        seen = state.value
        await asyncio.sleep(0.01)
        state.shown.append(seen)

    coalescer = Coalescer(render)

    async def change_and_refresh(n: int) -> int:
        state.value = n
        await coalescer.request("inc-1")
        return state.shown[-1]

    shown = await asyncio.gather(*(change_and_refresh(n) for n in range(1, 51)))
    assert coalescer.runs <= 2
    assert state.shown[-1] == 50
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


async def test_state_for_keys_nobody_waits_for_is_forgotten_so_it_stays_bounded() -> None:
    runs: list[int] = []

    async def render(key: int) -> None:
        runs.append(key)

    coalescer = Coalescer(render)
    for incident in range(5_000):  # one refresh per incident, as over months of incidents
        await coalescer.request(incident)
    assert len(runs) == 5_000
    assert len(coalescer._locks) <= 512 and len(coalescer._requested) <= 512
    await coalescer.request(7)  # a forgotten key runs again when asked
    assert runs[-1] == 7


async def test_a_key_within_its_interval_is_kept_so_the_interval_holds() -> None:
    started: dict[int, list[float]] = {}

    async def render(key: int) -> None:
        started.setdefault(key, []).append(time.monotonic())

    coalescer = Coalescer(render, min_interval=0.2)
    await coalescer.request(0)
    for incident in range(1, 600):  # enough keys to sweep while key 0's interval is still running
        await coalescer.request(incident)
    await coalescer.request(0)
    first, second = started[0]
    assert second - first >= 0.2


def test_the_channel_pacer_keeps_only_channels_still_waiting_for_a_slot() -> None:
    from bot.slack.web_client import ChannelPacer

    pacer = ChannelPacer(0.0)
    for channel in range(5_000):
        pacer.reserve(f"C{channel}")
    assert len(pacer._next_free) <= 512
    slow = ChannelPacer(60.0)
    for channel in range(600):
        slow.reserve(f"C{channel}")
    assert len(slow._next_free) == 600  # every one still holds a future slot
    assert slow.wait_for("C1") > 59
