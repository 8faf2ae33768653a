"""Page DMs in a storm: a person's first few pages are DMs of their own, the next ones join one digest DM
that is edited as pages arrive; one person's storm never gathers another's pages; a page none of whose
DMs reached Slack waits and is sent once Slack answers, never skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused, SlackUnreachable
from bot.domain.page_digests import STORM_THRESHOLD
from bot.domain.policy import Policy
from bot.domain.timer_results import PageDeferred, PageStepped
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases import page_dms
from bot.usecases.paging import Pager
from bot.usecases.ports import UnitOfWorkFactory
from tests.conftest import eventually
from tests.service.fakes import FakeClock, ScriptedSlack, fire_page_steps, sqlite_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Storm:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack = uow, ScriptedSlack()
        self.pager = Pager(
            uow=uow, slack=self.slack, messages=messages, policy=Policy(), clock=FakeClock(NOW), metrics=Metrics()
        )

    async def page(self, user_id: str, count: int = 1) -> list[int]:
        return [await self.pager.page_user(None, user_id=user_id, actor="U0ALICE", team_id="T1") for _ in range(count)]


@pytest.fixture
async def storm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Storm]:
    monkeypatch.setattr(page_dms, "DIGEST_EDIT_INTERVAL", 0.0)  # digest edits at once: no waiting on the clock
    monkeypatch.setattr(page_dms, "RETRY_POST_AFTER", 0.0)
    async with sqlite_database(tmp_path) as uow:
        yield Storm(uow)


async def test_the_first_pages_are_dms_of_their_own_and_the_rest_one_digest_edited_as_they_come(storm: Storm) -> None:
    await storm.page("U0BOB", STORM_THRESHOLD + 2)
    await storm.page("U0CAROL")
    results = await fire_page_steps(storm.uow, storm.pager, now=NOW)
    assert all(isinstance(r, PageStepped) for r in results)
    to_bob = [c for c in storm.slack.made("dm") if c.where == "U0BOB"]
    assert len(to_bob) == STORM_THRESHOLD + 1  # three alone, then the digest
    assert "pages at once" in to_bob[-1].text
    assert "You have 2 pages at once" in storm.slack.made("update_message")[-1].text  # shown as they joined
    assert [c.where for c in storm.slack.made("dm") if c.where != "U0BOB"] == ["U0CAROL"]  # not in Bob's storm
    digest_ts = {r.notified[0][2] for r in results if isinstance(r, PageStepped) and r.notified[0][0] == "U0BOB"}
    assert len(digest_ts) == STORM_THRESHOLD + 1  # the digest's pages share its DM
    storm.slack.calls.clear()
    await storm.page("U0BOB")
    await fire_page_steps(storm.uow, storm.pager, now=NOW + timedelta(seconds=30))
    assert storm.slack.made("dm") == []  # joined the open digest
    (edit,) = storm.slack.made("update_message")
    assert edit.where == "DU0BOB" and "You have 3 pages at once" in edit.text


async def test_a_step_none_of_whose_dms_reached_slack_waits_and_goes_out_once_slack_answers(storm: Storm) -> None:
    (page_id,) = await storm.page("U0BOB")
    storm.slack.refuse("dm", SlackUnreachable("ClientConnectorError"))
    (deferred,) = await fire_page_steps(storm.uow, storm.pager, now=NOW)
    assert isinstance(deferred, PageDeferred) and deferred.retry_at > NOW
    storm.slack.allow("dm")
    (sent,) = await fire_page_steps(storm.uow, storm.pager, now=deferred.retry_at)
    assert isinstance(sent, PageStepped) and sent.notified[0][:2] == ("U0BOB", "DU0BOB")
    assert sent.tier == 0 and sent.page.id == page_id  # the first tier, not skipped


async def test_a_digest_slack_refuses_holds_its_pages_until_it_can_be_posted(storm: Storm) -> None:
    await storm.page("U0BOB", STORM_THRESHOLD)
    await fire_page_steps(storm.uow, storm.pager, now=NOW)
    later = await storm.page("U0BOB", 2)
    storm.slack.refuse("dm", SlackRefused("ratelimited", retryable=True))
    held = await fire_page_steps(storm.uow, storm.pager, now=NOW + timedelta(seconds=10))
    assert [type(r) for r in held] == [PageDeferred, PageDeferred]
    storm.slack.allow("dm")
    retry_at = max(r.retry_at for r in held if isinstance(r, PageDeferred))
    sent = await fire_page_steps(storm.uow, storm.pager, now=retry_at)
    assert sorted(r.page.id for r in sent if isinstance(r, PageStepped)) == later
    async with storm.uow(read_only=True) as work:
        opened = await work.pages.open_digest("U0BOB", since=NOW)
        digest = await work.pages.digest(opened.id) if opened else None
    assert digest is not None and digest.ts is not None and [e.page_id for e in digest.entries] == later


async def test_a_digest_edit_slack_refuses_is_made_again_without_another_page_coming(
    storm: Storm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page_dms, "EDIT_RETRY_DELAYS", (0.05,) * 20)
    await storm.page("U0BOB", STORM_THRESHOLD + 1)
    await fire_page_steps(storm.uow, storm.pager, now=NOW)  # three alone, then the digest is posted
    storm.slack.refuse("update_message", SlackRefused("ratelimited", retryable=True))
    await storm.page("U0BOB")
    await fire_page_steps(storm.uow, storm.pager, now=NOW + timedelta(seconds=10))  # joins it: the edit fails
    assert storm.slack.made("update_message")  # tried, and refused
    storm.slack.allow("update_message")  # Slack takes edits again; no further page arrives
    storm.slack.calls.clear()  # from here on every edit succeeds
    await eventually(lambda: storm.slack.made("update_message"), within=30, what="the digest edited again")
    assert "You have 2 pages at once" in storm.slack.made("update_message")[-1].text
