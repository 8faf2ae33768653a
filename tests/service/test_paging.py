"""Paging without HTTP: a page is stored, its step DMs the person paged, and only that person's
acknowledgement counts. The real use cases over the in-memory database and a recording Slack gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import UserError
from bot.domain.escalation import ACKNOWLEDGED
from bot.domain.policy import Policy
from bot.domain.timer_results import PageStepped
from bot.runtime.metrics import Metrics
from bot.slack.gateway import ReplyTarget
from bot.usecases.paging import Pager
from tests.conftest import FakeClock
from tests.service.fakes import RecordingSlack, memory_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
async def pager() -> Pager:
    woken: list[int] = []
    pager = Pager(
        uow=await memory_database(), slack=RecordingSlack(), policy=Policy(), clock=FakeClock(NOW), metrics=Metrics()
    )
    pager.wake = lambda: woken.append(1)
    return pager


async def test_a_page_is_stored_due_now_and_wakes_the_timers(pager: Pager) -> None:
    page_id = await pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    page = await pager.get(page_id)
    assert page.next_step_at == NOW and page.tier == 0
    assert pager.slack.calls == []  # nothing is sent until the timer fires the step


async def test_the_step_dms_the_person_paged_with_what_to_record(pager: Pager) -> None:
    page_id = await pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    result = await pager.send_step(await pager.get(page_id), None, now=NOW)
    assert isinstance(result, PageStepped) and not result.exhausted
    (dm,) = pager.slack.made("dm")
    assert dm.where == "U0BOB" and "being paged" in dm.text
    assert [n[0] for n in result.notified] == ["U0BOB"]


async def test_only_someone_paged_can_acknowledge(pager: Pager) -> None:
    page_id = await pager.page_user(None, user_id="U0BOB", actor="U0ALICE", team_id="T1")
    async with pager.uow() as uow:  # as the tick does: claim the due step, fire it, record what it did
        (page, channel), *_ = (
            await uow.timers.claim(now=NOW, lease=timedelta(minutes=1), token="t", limit=5)
        ).pages.values()
        await uow.commit()
    result = await pager.send_step(page, channel, now=NOW)
    async with pager.uow() as uow:
        assert await uow.timers.record([result], token="t") == [True]
        await uow.commit()
    with pytest.raises(UserError, match="someone else"):
        await pager.acknowledge(page_id, actor="U0MALLORY", reply_to=ReplyTarget(user_id="U0MALLORY"))
    assert (await pager.get(page_id)).status != ACKNOWLEDGED
    await pager.acknowledge(page_id, actor="U0BOB", reply_to=ReplyTarget(user_id="U0BOB"))
    assert (await pager.get(page_id)).status == ACKNOWLEDGED
