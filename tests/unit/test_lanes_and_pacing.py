"""The background's lanes and waiting for Slack: a job that waits for Slack's pace gives its worker back,
a person's job never queues behind bulk work, and a rate-tiered method is paced only once Slack refuses
it. Ordering and counts, no stopwatches."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Awaitable, Callable
from itertools import pairwise

from bot.runtime.background import BULK, PEOPLE, Background
from bot.runtime.metrics import Metrics
from bot.runtime.worker_slot import wait_for_slack
from bot.slack.web_client import ChannelPacer, MethodPacer


def background(workers: int = 1) -> tuple[Background, Metrics]:
    async def on_error(error: BaseException, body: dict[str, object]) -> None:
        raise AssertionError(f"a job failed: {error!r}")

    metrics = Metrics()
    return Background(metrics, on_error, count_commits=lambda: [0], workers=workers), metrics


def gauge(metrics: Metrics, name: str, lane: str) -> float:
    value = metrics.registry.get_sample_value(name, {"lane": lane})
    assert value is not None
    return value


async def test_a_job_waiting_for_slacks_pace_gives_its_worker_back() -> None:
    pool, metrics = background(workers=1)
    pool.start()
    done: list[str] = []
    slack_said_go, other_ran = asyncio.Event(), asyncio.Event()

    async def paced_post() -> None:
        await wait_for_slack(0.01)  # gives the only worker back, then sleeps
        await slack_said_go.wait()  # stands for the rest of a long wait at the channel's pace
        done.append("post")

    async def other() -> None:
        done.append("other")
        other_ran.set()

    pool.submit({}, paced_post, lane=BULK)
    pool.submit({}, other, lane=BULK)
    await asyncio.wait_for(other_ran.wait(), 10)  # while the post still waits
    assert done == ["other"]
    assert gauge(metrics, "tocsin_work_waiting_for_slack", "bulk") == 1
    slack_said_go.set()
    assert await pool.wait_idle(10)
    assert done == ["other", "post"]
    assert gauge(metrics, "tocsin_work_waiting_for_slack", "bulk") == 0
    assert await pool.drain(1)


async def test_a_person_never_queues_behind_busy_bulk_workers() -> None:
    pool, metrics = background(workers=2)
    pool.start()
    busy = asyncio.Event()
    for _ in range(10):
        pool.submit({}, busy.wait)  # the default lane is bulk
    answered = asyncio.Event()

    async def person() -> None:
        answered.set()

    pool.submit({}, person, lane=PEOPLE)
    await asyncio.wait_for(answered.wait(), 10)
    assert gauge(metrics, "tocsin_work_queued", "bulk") == 8
    assert gauge(metrics, "tocsin_work_queued", "people") == 0
    busy.set()
    assert await pool.wait_idle(10)
    assert await pool.drain(1)


async def test_a_quick_reply_goes_ahead_of_declares_queued_before_it() -> None:
    pool, _ = background(workers=1)
    pool.start()
    first_running, release = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def declare(n: int) -> None:
        order.append(f"declare {n}")
        first_running.set()
        await release.wait()

    for n in range(5):
        pool.submit({}, functools.partial(declare, n), lane=PEOPLE, long=True)
    await asyncio.wait_for(first_running.wait(), 10)  # the one worker is taken by the first declare

    async def listing() -> None:
        order.append("list")

    pool.submit({}, listing, lane=PEOPLE)
    release.set()
    assert await pool.wait_idle(10)
    assert order == ["declare 0", "list", "declare 1", "declare 2", "declare 3", "declare 4"]
    assert await pool.drain(1)


async def test_drain_stops_a_job_still_waiting_when_time_runs_out() -> None:
    pool, _ = background()
    pool.start()
    pool.submit({}, lambda: wait_for_slack(3600))
    assert not await pool.drain(0.05)


def test_a_tiered_method_is_paced_only_once_slack_refuses_it() -> None:
    methods = MethodPacer(minute=60.0)
    assert [methods.reserve("conversations.create") for _ in range(50)] == [0.0] * 50  # Slack may allow more
    methods.hold("conversations.create", 2.0)
    waits = [methods.reserve("conversations.create") for _ in range(4)]
    assert 1.9 < waits[0] < 2.1  # nothing before Retry-After
    gaps = [later - earlier for earlier, later in pairwise(waits)]
    assert all(3.0 < gap < 3.3 for gap in gaps), gaps  # then about 20 a minute, in the order asked
    assert methods.reserve("chat.postMessage") == 0.0 and not methods.paces("chat.postMessage")


async def test_posts_whose_waits_end_together_still_go_out_a_pace_apart() -> None:
    pacer = ChannelPacer(0.05)
    sent: list[float] = []
    loop = asyncio.get_running_loop()

    async def post() -> None:
        await pacer.turn("C1")
        sent.append(loop.time())

    posts = asyncio.gather(*(post() for _ in range(5)))
    await asyncio.sleep(0)  # each has taken its slot: 0, 0.05 … 0.2 s from now
    loop.call_soon(time.sleep, 0.3)  # a busy event loop: every slot has passed when it runs again
    await posts
    gaps = [later - earlier for earlier, later in pairwise(sent)]
    assert all(gap >= 0.045 for gap in gaps), gaps


async def test_only_a_persons_quick_jobs_are_hurried_and_only_in_their_own_context() -> None:
    hurried: contextvars.ContextVar[bool] = contextvars.ContextVar("hurried", default=False)

    async def on_error(error: BaseException, body: dict[str, object]) -> None:
        raise AssertionError(f"a job failed: {error!r}")

    def hurry() -> None:
        hurried.set(True)

    pool = Background(Metrics(), on_error, count_commits=lambda: [0], hurry=hurry)
    pool.start()
    seen: dict[str, bool] = {}

    def job(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            seen[name] = hurried.get()

        return run

    pool.submit({}, job("list"), lane=PEOPLE)
    pool.submit({}, job("form"), lane=PEOPLE, urgent=True)
    pool.submit({}, job("declare"), lane=PEOPLE, long=True)
    pool.submit({}, job("alert"))
    assert await pool.wait_idle(10)
    assert seen == {"list": True, "form": True, "declare": False, "alert": False}
    assert hurried.get() is False  # the submitter's own context is untouched
    assert await pool.drain(1)
