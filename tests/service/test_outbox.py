"""Posts that survive Slack's errors: a post Slack refuses for now is kept and sent again when due, a
post refused for good is not kept, and one never sent is dropped with a word to its author."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused, SlackUnreachable
from bot.slack import messages
from bot.usecases.outbox import FIRST_RETRY, MAX_ATTEMPTS, Outbox, backoff
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, ScriptedSlack, sqlite_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    async with sqlite_database(tmp_path) as database:
        yield database


def outbox(uow: Callable[..., UnitOfWork]) -> tuple[Outbox, ScriptedSlack, FakeClock]:
    slack, clock = ScriptedSlack(), FakeClock(NOW)
    return Outbox(uow=uow, slack=slack, messages=messages, clock=clock), slack, clock


async def test_a_post_slack_takes_is_sent_once_and_nothing_is_kept(uow: Callable[..., UnitOfWork]) -> None:
    box, slack, clock = outbox(uow)
    assert await box.post("C0INC1", "hello") is not None
    clock.advance(hours=1)
    assert await box.send_due(token="t") == 0
    assert [c.where for c in slack.made("post")] == ["C0INC1"]


async def test_a_post_refused_for_now_is_sent_when_due_and_only_then(uow: Callable[..., UnitOfWork]) -> None:
    box, slack, clock = outbox(uow)
    slack.refuse("post", SlackRefused("ratelimited", retryable=True))
    assert await box.post("C0INC1", "rolled back", author="U0ALICE") is None
    slack.allow("post")
    assert await box.send_due(token="t") == 0  # not due yet
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    assert await box.send_due(token="t") == 1
    assert await box.send_due(token="t") == 0  # sent: gone from the outbox
    assert [(c.where, c.text) for c in slack.made("post")] == [("C0INC1", "rolled back")] * 2
    assert slack.made("dm") == []


async def test_a_post_refused_for_good_raises_and_is_not_kept(uow: Callable[..., UnitOfWork]) -> None:
    box, slack, clock = outbox(uow)
    slack.refuse("post", SlackRefused("not_in_channel"))
    with pytest.raises(SlackRefused):
        await box.post("C0ELSE", "hello", author="U0ALICE")
    slack.allow("post")
    clock.advance(hours=2)
    assert await box.send_due(token="t") == 0


async def test_a_post_never_sent_is_dropped_and_its_author_told_what_it_said(uow: Callable[..., UnitOfWork]) -> None:
    box, slack, clock = outbox(uow)
    slack.refuse("post", SlackUnreachable("ClientConnectorError"))
    await box.post("#incidents", "INC-7 is resolved\nthanks all", author="U0ALICE")
    for attempts in range(1, MAX_ATTEMPTS + 1):
        clock.advance(seconds=backoff(attempts).total_seconds())
        assert await box.send_due(token=f"t{attempts}") == 1
    tries = len(slack.made("post"))  # the first post, then each time it was due
    (told,) = slack.made("dm")
    assert told.where == "U0ALICE" and f"after {tries} tries" in told.text
    assert ">INC-7 is resolved\n>thanks all" in told.text and "ClientConnectorError" in told.text
    clock.advance(days=1)
    assert await box.send_due(token="later") == 0


async def test_a_marked_post_that_landed_before_its_answer_was_lost_is_not_sent_twice(
    uow: Callable[..., UnitOfWork],
) -> None:
    box, slack, clock = outbox(uow)
    slack.refuse("post", SlackUnreachable("TimeoutError"))
    await box.post("#incidents", "INC-7 declared", marker="announce:7")
    slack.allow("post")
    slack.own_messages[("#incidents", "announce:7")] = "1700000000.000009"  # it reached Slack after all
    clock.advance(minutes=1)
    assert await box.send_due(token="t") == 1
    assert len(slack.made("post")) == 1 and len(slack.made("find_own_message")) == 1
    assert await box.send_due(token="t") == 0
