"""Messages captured from an incident channel: a reacted message read from Slack joins the timeline at
the time it was posted, leaves it once nothing holds it, follows its edits and deletion; the message
shortcut adds one (once); each event counts once, and only in an incident's channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import SlackUnreachable
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.source_message import SourceMessage
from bot.slack import messages
from bot.usecases.capture import MessageCapture
from bot.usecases.ports import UnitOfWorkFactory
from tests.service.fakes import FakeClock, ScriptedSlack, incident_in_channel, sqlite_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POSTED = datetime(2026, 11, 29, 8, 55, tzinfo=UTC)  # before it was captured
TS = f"{int(POSTED.timestamp())}.000000"
REPLY_TS = f"{int(POSTED.timestamp()) + 60}.000200"


class Capturing:
    """An incident in #inc-1 and the capture use cases, over a Slack that holds a message and a reply."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack = uow, ScriptedSlack()
        self.capture = MessageCapture(uow=uow, slack=self.slack, messages=messages, clock=FakeClock(NOW))
        link = "https://x.slack.com/p1"
        self.slack.stored[("C0INC1", TS)] = {"user": "U0BOB", "text": "db is &lt;slow&gt;", "permalink": link}
        self.slack.stored[("C0INC1", REPLY_TS)] = {"user": "U0CAROL", "text": "failing over", "thread_ts": TS}

    async def messages_on(self, incident: Incident) -> list[TimelineEntry]:
        async with self.uow(read_only=True) as work:
            return [e for e in await work.incidents.timeline(incident.id) if e.kind is TimelineKind.MESSAGE]

    async def react(self, event_id: str, ts: str = TS, channel_id: str = "C0INC1") -> bool:
        return await self.capture.capture(
            event_id=event_id, channel_id=channel_id, ts=ts, reason="reaction", message=None
        )


@pytest.fixture
async def capturing(tmp_path: Path) -> AsyncIterator[Capturing]:
    async with sqlite_database(tmp_path) as uow:
        yield Capturing(uow)


async def test_a_reacted_message_is_read_from_slack_and_kept_at_the_time_it_was_posted(capturing: Capturing) -> None:
    incident = await incident_in_channel(capturing.uow, now=NOW)
    assert await capturing.react("Ev1") and await capturing.react("Ev2", ts=REPLY_TS)
    first, reply = await capturing.messages_on(incident)
    assert (first.actor, first.text, first.occurred_at) == ("U0BOB", "db is <slow>", POSTED)
    assert first.permalink == "https://x.slack.com/p1" and first.thread_ts is None
    assert (reply.actor, reply.thread_ts) == ("U0CAROL", TS)  # a reply, linked to its thread
    assert [c.extra["ts"] for c in capturing.slack.made("message")] == [TS, REPLY_TS]


async def test_outside_an_incident_channel_or_for_a_gone_message_nothing_is_kept(capturing: Capturing) -> None:
    incident = await incident_in_channel(capturing.uow, now=NOW)
    assert not await capturing.react("Ev1", channel_id="C0RANDOM")
    assert capturing.slack.calls == []  # not an incident's channel: Slack is not even asked
    assert not await capturing.react("Ev2", ts="1700000999.000999")  # deleted meanwhile
    assert await capturing.messages_on(incident) == []


async def test_a_message_held_by_a_pin_and_a_reaction_leaves_only_when_both_are_gone(capturing: Capturing) -> None:
    incident = await incident_in_channel(capturing.uow, now=NOW)
    pinned = capturing.slack.stored[("C0INC1", TS)]
    await capturing.capture.capture(event_id="Ev1", channel_id="C0INC1", ts=TS, reason="pin", message=pinned)
    await capturing.react("Ev2")
    release = capturing.capture.release
    assert not await release(event_id="Ev3", channel_id="C0INC1", ts=TS, reason="pin")
    assert len(await capturing.messages_on(incident)) == 1
    assert not await release(event_id="Ev3", channel_id="C0INC1", ts=TS, reason="reaction")  # a redelivery
    assert await release(event_id="Ev4", channel_id="C0INC1", ts=TS, reason="reaction")
    assert await capturing.messages_on(incident) == []


async def test_edits_and_deletions_follow_the_captured_message(capturing: Capturing) -> None:
    incident = await incident_in_channel(capturing.uow, now=NOW)
    await capturing.react("Ev1")
    await capturing.capture.message_edited(event_id="Ev2", channel_id="C0INC1", ts=TS, text="db is fine &amp; fast")
    assert [e.text for e in await capturing.messages_on(incident)] == ["db is fine & fast"]
    await capturing.capture.message_deleted(event_id="Ev3", channel_id="C0INC1", ts=TS)
    assert await capturing.messages_on(incident) == []


async def test_the_shortcut_adds_a_message_once_asking_slack_for_its_link(capturing: Capturing) -> None:
    incident = await incident_in_channel(capturing.uow, now=NOW)
    message = SourceMessage(channel_id="C0OPS", ts=TS, author="U0BOB", text="checkout 500s")
    assert await capturing.capture.add_message(incident, message, actor="U0ALICE")
    assert not await capturing.capture.add_message(incident, message, actor="U0ALICE")
    (entry,) = await capturing.messages_on(incident)
    assert entry.text == "checkout 500s" and entry.permalink and "C0OPS" in entry.permalink


async def test_a_message_slack_cannot_read_now_is_captured_when_the_event_comes_again(capturing: Capturing) -> None:
    incident = await incident_in_channel(capturing.uow, now=NOW)
    capturing.slack.refuse("message", SlackUnreachable("TimeoutError"))
    with pytest.raises(SlackUnreachable):
        await capturing.react("Ev1")
    capturing.slack.allow("message")
    assert await capturing.react("Ev1")  # the same delivery, retried: not taken as done before
    assert len(await capturing.messages_on(incident)) == 1
