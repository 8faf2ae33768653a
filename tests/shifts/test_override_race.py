"""Two replicas taking overlapping shifts of one schedule at the same moment: the overlap check and the
insert hold the schedule, so exactly one of each pair is made and the other refused with the reason —
on PostgreSQL (an advisory lock per schedule) and on SQLite (one writer)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

from bot.domain.errors import UserError
from bot.domain.policy import Policy
from bot.usecases.schedule_book import ScheduleBook
from bot.usecases.shift_changes import ShiftChanges
from bot.usecases.shift_notices import ShiftNotices
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY
from tests.conftest import FakeClock

ROUNDS = 6


def replica(url: str, policy: Policy, clock: FakeClock) -> tuple[ShiftChanges, Any]:
    """One replica's ShiftChanges, on a connection pool of its own."""
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions, read_only=read_only)

    book = ScheduleBook(uow, policy, clock)
    changes = ShiftChanges(
        uow, cast(ShiftNotices, None), policy, clock, book, wake_jobs=lambda: None
    )  # a take sends no DM: no notices needed
    return changes, engine


async def test_overlapping_takes_on_two_replicas_at_once_make_exactly_one_override(
    database_url: str, clock: FakeClock
) -> None:
    policy = Policy.model_validate(PAGING_POLICY)
    first, engine_one = replica(database_url, policy, clock)
    second, engine_two = replica(database_url, policy, clock)
    await upgrade_to_head(engine_one)
    try:
        for n in range(ROUNDS):
            when = (clock() + timedelta(days=1, hours=2 * n)).strftime("%Y-%m-%d %H:%M")
            outcomes = await asyncio.gather(
                first.take(
                    schedule="payments-primary", actor="U0ALICE", when=when, length=timedelta(hours=1), at=clock()
                ),
                second.take(
                    schedule="payments-primary", actor="U0DAVE", when=when, length=timedelta(hours=1), at=clock()
                ),
                return_exceptions=True,
            )
            made = [o for o in outcomes if not isinstance(o, BaseException)]
            refused = [o for o in outcomes if isinstance(o, UserError)]
            assert len(made) == 1 and len(refused) == 1, f"round {n}: {outcomes!r}"
            assert "overlaps override" in str(refused[0])
        async with UnitOfWork(session_factory(engine_one)) as uow:
            stored = await uow.shifts.overrides(["payments-primary"], ending_after=clock())
        assert len(stored) == ROUNDS
    finally:
        await engine_one.dispose()
        await engine_two.dispose()
