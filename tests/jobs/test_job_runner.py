"""Scheduled jobs on SQLite and PostgreSQL: planned once by key, fired once across runners, late rather than
never, retried with backoff when a handler fails, recurring jobs keeping their row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.jobs import Job, JobAgain, JobDone, JobOutcome, JobRetry, job_key
from bot.entrypoints.job_runner import JobRunner, retry_delay
from bot.runtime.doorbell import Doorbell
from bot.runtime.metrics import Metrics
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.conftest import eventually
from tests.values import FakeClock

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each kind."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


def units(engine: AsyncEngine) -> Callable[..., UnitOfWork]:
    sessions = session_factory(engine)
    return lambda **kw: UnitOfWork(sessions, **kw)


async def plan(engine: AsyncEngine, kind: str, key: str, due_at: datetime, **payload: object) -> bool:
    async with units(engine)() as uow:
        planned = await uow.jobs.schedule(kind, key, due_at=due_at, payload=payload)
        await uow.commit()
    return planned


async def pending(engine: AsyncEngine, key: str) -> Job | None:
    async with units(engine)() as uow:
        return await uow.jobs.pending(key)


class Recorder:
    """A handler that records what it fired and answers with `outcome(job)`."""

    def __init__(self, outcome: Callable[[Job], JobOutcome] = lambda _job: JobDone()) -> None:
        self.fired: list[Job] = []
        self.outcome = outcome

    async def __call__(self, job: Job) -> JobOutcome:
        self.fired.append(job)
        return self.outcome(job)


async def test_a_key_is_planned_once_and_a_job_fires_only_when_due(engine: AsyncEngine) -> None:
    clock = FakeClock(START)
    recorder = Recorder()
    runner = JobRunner(units(engine), {"greet": recorder}, clock, Metrics())
    assert await plan(engine, "greet", "greet:1", START + timedelta(minutes=5), who="U1")
    assert not await plan(engine, "greet", "greet:1", START, who="U2")  # the first plan stands
    assert await runner.tick() == 0
    clock.advance(minutes=5)
    assert await runner.tick() == 1
    assert [(j.key, dict(j.payload)) for j in recorder.fired] == [("greet:1", {"who": "U1"})]
    assert await runner.tick() == 0  # done: never again
    assert await pending(engine, "greet:1") is None
    assert not await plan(engine, "greet", "greet:1", START)  # a finished key stays taken


async def test_jobs_of_kinds_without_a_handler_are_left_for_a_runner_that_has_one(engine: AsyncEngine) -> None:
    clock = FakeClock(START)
    await plan(engine, "other", "other:1", START)
    assert await JobRunner(units(engine), {"greet": Recorder()}, clock, Metrics()).tick() == 0
    recorder = Recorder()
    assert await JobRunner(units(engine), {"other": recorder}, clock, Metrics()).tick() == 1
    assert [j.key for j in recorder.fired] == ["other:1"]


async def test_a_recurring_job_keeps_its_row_and_a_retry_moves_it(engine: AsyncEngine) -> None:
    clock = FakeClock(START)

    def again(job: Job) -> JobOutcome:
        count = int(job.payload.get("count", 0)) + 1
        return JobAgain(clock() + timedelta(hours=1), {"count": count}) if count < 3 else JobDone()

    recorder = Recorder(again)
    runner = JobRunner(units(engine), {"beat": recorder}, clock, Metrics())
    await plan(engine, "beat", "beat", START)
    for _ in range(3):
        assert await runner.tick() == 1
        clock.advance(hours=1)
    assert [j.payload.get("count", 0) for j in recorder.fired] == [0, 1, 2]
    assert await pending(engine, "beat") is None

    retry_at = START + timedelta(days=1)
    flaky = Recorder(lambda job: JobRetry(retry_at, "provider said 503") if job.attempts == 0 else JobDone())
    runner = JobRunner(units(engine), {"flaky": flaky}, clock, Metrics())
    await plan(engine, "flaky", "flaky", clock())
    assert await runner.tick() == 1
    moved = await pending(engine, "flaky")
    assert moved is not None and moved.due_at == retry_at and moved.attempts == 1
    clock.now = retry_at
    assert await runner.tick() == 1
    assert await pending(engine, "flaky") is None


async def test_a_handler_that_raises_is_tried_again_later_with_backoff(engine: AsyncEngine) -> None:
    clock = FakeClock(START)
    calls: list[int] = []

    async def broken(job: Job) -> JobOutcome:
        calls.append(job.attempts)
        if len(calls) < 3:
            raise ConnectionError("the provider is down")
        return JobDone()

    metrics = Metrics()
    runner = JobRunner(units(engine), {"broken": broken}, clock, metrics)
    await plan(engine, "broken", "broken", START)
    assert await runner.tick() == 1
    first = await pending(engine, "broken")
    assert first is not None and first.due_at == START + retry_delay(0)
    clock.now = first.due_at
    assert await runner.tick() == 1
    second = await pending(engine, "broken")
    assert second is not None and second.due_at == clock() + retry_delay(1) > first.due_at + retry_delay(0)
    clock.now = second.due_at
    assert await runner.tick() == 1
    assert calls == [0, 1, 2]
    assert await pending(engine, "broken") is None
    rendered = metrics.render().decode()
    assert 'tocsin_jobs_fired_total{kind="broken",outcome="failed"} 2.0' in rendered
    assert 'tocsin_jobs_fired_total{kind="broken",outcome="done"} 1.0' in rendered


async def test_two_runners_on_one_database_fire_each_job_once(engine: AsyncEngine) -> None:
    clock = FakeClock(START)
    fired: list[str] = []

    async def slow(job: Job) -> JobOutcome:
        await asyncio.sleep(0)  # let the other runner try to claim meanwhile
        fired.append(job.key)
        return JobDone()

    for n in range(30):
        await plan(engine, "slow", job_key("slow", n), START)
    runners = [JobRunner(units(engine), {"slow": slow}, clock, Metrics(), batch=7) for _ in range(2)]
    await asyncio.gather(*(r.tick() for r in runners), *(r.tick() for r in runners))
    await asyncio.gather(*(r.tick() for r in runners))
    assert sorted(fired) == sorted(job_key("slow", n) for n in range(30))


async def test_a_claim_whose_lease_ran_out_is_taken_again_and_the_late_finish_is_not_recorded(
    engine: AsyncEngine,
) -> None:
    clock = FakeClock(START)
    await plan(engine, "lost", "lost", START)
    async with units(engine)() as uow:  # a runner that claimed the job and died
        [claimed] = await uow.jobs.claim(kinds=["lost"], now=START, lease=timedelta(minutes=2), token="dead", limit=5)
        await uow.commit()
    recorder = Recorder()
    runner = JobRunner(units(engine), {"lost": recorder}, clock, Metrics())
    assert await runner.tick() == 0  # still leased
    clock.advance(minutes=3)
    assert await runner.tick() == 1  # late rather than never
    async with units(engine)() as uow:
        assert not await uow.jobs.finish(claimed, JobDone(), token="dead", now=clock())


async def test_cancelling_and_listing_jobs(engine: AsyncEngine) -> None:
    for n in range(3):
        await plan(engine, "contact", job_key("contact", 7, n), START + timedelta(minutes=n))
    await plan(engine, "contact", job_key("contact", 8, 0), START)
    async with units(engine)() as uow:
        assert [j.key for j in await uow.jobs.pending_of_kind("contact", prefix="contact:7:")] == [
            "contact:7:0",
            "contact:7:1",
            "contact:7:2",
        ]
        assert await uow.jobs.cancel("contact:7:0")
        assert not await uow.jobs.cancel("contact:7:0")
        assert await uow.jobs.reschedule("contact:7:2", due_at=START)
        assert await uow.jobs.cancel_prefix("contact:7:") == 2
        assert [j.key for j in await uow.jobs.pending_of_kind("contact")] == ["contact:8:0"]
        await uow.commit()


async def test_a_job_planned_due_now_rings_the_runner(engine: AsyncEngine) -> None:
    planned = Doorbell()
    recorder = Recorder()
    runner = JobRunner(units(engine), {"now": recorder}, lambda: datetime.now(UTC), Metrics(), planned=planned)
    await plan(engine, "now", "now", datetime.now(UTC))
    planned.ring()
    await eventually(lambda: len(recorder.fired) == 1, within=30, what="the rung runner to fire the job")
    await runner.idle()


def test_retries_back_off_up_to_a_cap() -> None:
    delays = [retry_delay(n) for n in range(12)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(seconds=30) and delays[-1] == timedelta(minutes=10)
