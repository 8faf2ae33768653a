"""Paging without HTTP: a page is stored, its step DMs the person paged, and only that person's
acknowledgement counts. The real use cases over the in-memory database and a recording Slack gateway."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import UserError
from bot.domain.escalation import ACKNOWLEDGED
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.timer_results import PageStepped
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.paging import Pager
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, RecordingSlack, memory_storage

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Paging:
    """The pager over an in-memory database, the Slack it records, and storage's own side (the tick's)."""

    def __init__(self, storage: Callable[..., UnitOfWork]) -> None:
        self.storage, self.slack, self.woken = storage, RecordingSlack(), 0
        self.pager = Pager(
            uow=storage,
            slack=self.slack,
            messages=messages,
            policy=Policy(),
            clock=FakeClock(NOW),
            metrics=Metrics(),
            wake=self.wake,
        )

    def wake(self) -> None:
        self.woken += 1


@pytest.fixture
async def paging() -> Paging:
    return Paging(await memory_storage())


async def test_a_page_is_stored_due_now_and_wakes_the_timers(paging: Paging) -> None:
    page_id = await paging.pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    page = await paging.pager.get(page_id)
    assert page.next_step_at == NOW and page.tier == 0 and paging.woken == 1
    assert paging.slack.calls == []  # nothing is sent until the timer fires the step


async def test_the_step_dms_the_person_paged_with_what_to_record(paging: Paging) -> None:
    pager = paging.pager
    page_id = await pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    result = await pager.send_step(await pager.get(page_id), None, now=NOW)
    assert isinstance(result, PageStepped) and not result.exhausted
    (dm,) = paging.slack.made("dm")
    assert dm.where == "U0BOB" and "being paged" in dm.text
    assert [n[0] for n in result.notified] == ["U0BOB"]


async def test_only_someone_paged_can_acknowledge(paging: Paging) -> None:
    pager = paging.pager
    page_id = await pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    async with paging.storage() as uow:  # as the tick does: claim the due step, fire it, record what it did
        (page, channel), *_ = (
            await uow.timers.claim(now=NOW, lease=timedelta(minutes=1), token="t", limit=5)
        ).pages.values()
        await uow.commit()
    result = await pager.send_step(page, channel, now=NOW)
    async with paging.storage() as uow:
        assert await uow.timers.record([result], token="t") == [True]
        await uow.commit()
    with pytest.raises(UserError, match="someone else"):
        await pager.acknowledge(page_id, actor="U0MALLORY", reply_to=ReplyTarget(user_id="U0MALLORY"))
    assert (await pager.get(page_id)).status != ACKNOWLEDGED
    await pager.acknowledge(page_id, actor="U0BOB", reply_to=ReplyTarget(user_id="U0BOB"))
    assert (await pager.get(page_id)).status == ACKNOWLEDGED
