"""Replies in threads, where much incident talk happens, join the timeline like any message: given the
timeline reaction, pinned, or picked with a message shortcut; their edits and deletions follow, and the
timeline links each to its thread. The Slack double reads threads as Slack's method reference says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Tocsin
from bot.domain.incidents import TimelineEntry, TimelineKind
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_timeline
from tests.e2e.test_response import run
from tests.slack_double import SlackDouble
from tests.slack_double.server import manifest_bot_scopes

TRANSPORTS = ["http", "socket"]


def a_thread(double: SlackDouble, channel_id: str) -> tuple[str, str]:
    """Bob reports something in the channel and Carol answers in its thread: (parent ts, reply ts)."""
    parent = double.user_posts("U0BOB", channel_id, "Checkout is failing for EU customers")
    reply = double.user_posts("U0CAROL", channel_id, "db-3's pool is exhausted", thread_ts=parent)
    return parent, reply


async def captured(tocsin: Tocsin) -> list[TimelineEntry]:
    return [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]


def posted(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def links_to_thread(entry: TimelineEntry, channel_id: str, reply: str, parent: str) -> bool:
    """The entry's permalink opens the reply in its thread (as chat.getPermalink gives it for a reply)."""
    expected = f"/archives/{channel_id}/p{reply.replace('.', '')}?thread_ts={parent}&cid={channel_id}"
    return bool(entry.permalink) and str(entry.permalink).endswith(expected)


# ----- the four ways in, on both transports -------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_reply_given_the_timeline_reaction_joins_the_timeline_and_follows_its_edit_and_deletion(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    parent, reply = a_thread(double, channel.id)

    reacted = double.reaction_event("U0ALICE", channel.id, reply, "pushpin")
    assert "thread_ts" not in reacted["event"]["item"]  # Slack names the message by channel and ts alone
    await double.deliver_event(reacted, via=transport)
    await settle(tocsin)
    (entry,) = await captured(tocsin)
    assert (entry.actor, entry.text, entry.occurred_at) == ("U0CAROL", "db-3's pool is exhausted", posted(reply))
    assert entry.thread_ts == parent and entry.in_thread
    assert links_to_thread(entry, channel.id, reply, parent)
    # Read with conversations.replies (history holds only the channel's top-level messages).
    assert [c.args["ts"] for c in double.calls_to("conversations.replies")] == [reply]

    (page,) = (await run(double, tocsin, "U0ALICE", channel, "timeline", via=transport))[-1:]
    line = next(line for line in page.splitlines() if "db-3" in line)
    assert "*Message* _(reply in a thread)_ · <@U0CAROL> — db-3's pool is exhausted · <" in line
    assert f"?thread_ts={parent}" in line

    await double.deliver_event(
        double.edit_event(channel.id, reply, "db-3's pool is exhausted; raising it"), via=transport
    )
    await settle(tocsin)
    assert [(e.text, e.thread_ts) for e in await captured(tocsin)] == [("db-3's pool is exhausted; raising it", parent)]
    deleted = double.delete_event(channel.id, reply)
    assert deleted["event"]["previous_message"]["thread_ts"] == parent
    await double.deliver_event(deleted, via=transport)
    await settle(tocsin)
    assert await captured(tocsin) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_pinned_reply_joins_the_timeline_linked_to_its_thread_and_leaves_when_unpinned(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(database_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    parent, reply = a_thread(double, channel.id)
    pinned = double.pin_event("U0ALICE", channel.id, reply)
    await double.deliver_event(pinned, via=transport)
    await double.deliver_event(pinned, via=transport, retry_num=1)  # Slack's retry: counted once
    await settle(tocsin)
    (entry,) = await captured(tocsin)
    assert (entry.actor, entry.text, entry.thread_ts) == ("U0CAROL", "db-3's pool is exhausted", parent)
    assert entry.occurred_at == posted(reply) and links_to_thread(entry, channel.id, reply, parent)
    assert double.calls_to("conversations.replies") == []  # the pin event carried the message

    await double.deliver_event(double.pin_event("U0ALICE", channel.id, reply, removed=True), via=transport)
    await settle(tocsin)
    assert await captured(tocsin) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_adding_a_reply_with_the_shortcut_links_it_to_its_thread(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    parent, reply = a_thread(double, channel.id)
    payload = double.message_shortcut_payload("U0ALICE", channel.id, reply, "add_to_timeline")
    assert payload["message"]["thread_ts"] == parent  # as Slack sends a reply's shortcut
    await double.deliver(payload, kind="interactive", via=transport)
    await settle(tocsin)
    (entry,) = await captured(tocsin)
    assert (entry.actor, entry.text, entry.thread_ts) == ("U0CAROL", "db-3's pool is exhausted", parent)
    assert entry.occurred_at == posted(reply) and links_to_thread(entry, channel.id, reply, parent)
    assert ":pushpin: Added to the timeline of INC-1: Checkout errors." in double.replies_to("U0ALICE")

    # Its thread's parent is a message of its own: a second entry, in the channel.
    await double.message_shortcut("U0ALICE", channel.id, parent, "add_to_timeline", via=transport)
    await settle(tocsin)
    assert [(e.text, e.thread_ts) for e in await captured(tocsin)] == [
        ("Checkout is failing for EU customers", None),
        ("db-3's pool is exhausted", parent),
    ]
    # The postmortem draft's timeline says which one is a reply, and links it to its thread.
    await run(double, tocsin, "U0ALICE", channel, "resolve Raised the pool size", via=transport)
    (canvas,) = double.canvases.values()
    archive = f"https://tocsin-test.slack.com/archives/{channel.id}"
    assert f"([message]({archive}/p{parent.replace('.', '')}))" in canvas["markdown"]
    assert f"([reply in a thread]({archive}/p{reply.replace('.', '')}?thread_ts={parent}" in canvas["markdown"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_declaring_from_a_reply_opens_the_timeline_with_it_and_points_from_its_thread(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    general = double.find_channel_named("general")
    assert general is not None
    parent, reply = a_thread(double, general.id)
    await double.message_shortcut("U0ALICE", general.id, reply, "declare_from_message", via=transport)
    await settle(tocsin)
    (view,) = [v for v in double.views.values() if v["callback_id"] == "declare_incident"]
    await double.submit_view("U0ALICE", view["id"], {"title": "EU checkout", "severity": "SEV2"}, via=transport)
    await settle(tocsin)

    first, *_ = await stored_timeline(tocsin, 1)
    assert (first.kind, first.actor, first.text) == (TimelineKind.MESSAGE, "U0CAROL", "db-3's pool is exhausted")
    assert first.thread_ts == parent and first.occurred_at == posted(reply)
    assert links_to_thread(first, general.id, reply, parent)
    # The pointer is a reply in the same thread (Slack: thread_ts is the parent's, never a reply's).
    (pointer,) = [m for m in general.messages if m.get("user") == double.bot_user_id]
    assert pointer["thread_ts"] == parent and "was declared from a reply in this thread" in pointer["text"]


# ----- the edges ----------------------------------------------------------------------------------
async def test_a_threads_parent_and_a_reply_also_sent_to_the_channel_are_captured_as_they_are(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin)
    parent, _ = a_thread(double, channel.id)
    broadcast = double.user_posts("U0BOB", channel.id, "Rolling back now", thread_ts=parent, broadcast=True)
    for ts in (parent, broadcast):
        await double.deliver_event(double.reaction_event("U0ALICE", channel.id, ts, "pushpin"))
    await settle(tocsin)
    assert [(e.text, e.thread_ts) for e in await captured(tocsin)] == [
        ("Checkout is failing for EU customers", None),  # a thread's parent is a message in the channel
        ("Rolling back now", parent),  # shown in the channel too, but still a reply in the thread
    ]


async def test_a_reply_deleted_before_it_is_read_adds_nothing(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin)
    _, reply = a_thread(double, channel.id)
    reacted = double.reaction_event("U0ALICE", channel.id, reply, "pushpin")
    double.delete_event(channel.id, reply)  # gone from Slack before the reaction is handled
    await double.deliver_event(reacted)
    await settle(tocsin)
    assert await captured(tocsin) == []
    assert [c.error for c in double.calls if c.method == "conversations.replies"] == ["thread_not_found"]
    assert "Traceback" not in caplog.text


# ----- the double reads threads as Slack's reference says --------------------------------------------
@pytest.fixture
def slack(double: SlackDouble) -> AsyncWebClient:
    return AsyncWebClient(token=double.bot_token, base_url=double.api_url)


def texts(response: Any) -> list[str]:
    return [m["text"] for m in response["messages"]]


def stamps(response: Any) -> list[str]:
    return [m["ts"] for m in response["messages"]]


async def test_history_holds_top_level_messages_and_a_parent_carries_its_threads_summary(
    double: SlackDouble, slack: AsyncWebClient
) -> None:
    channel = double.add_channel("ops", members={"U0BOB", "U0CAROL"}, bot_member=True)
    parent, reply = a_thread(double, channel.id)
    later = double.user_posts("U0BOB", channel.id, "Status page updated")
    broadcast = double.user_posts("U0BOB", channel.id, "Rolled back", thread_ts=parent, broadcast=True)

    history = await slack.conversations_history(channel=channel.id)
    assert texts(history) == ["Rolled back", "Status page updated", "Checkout is failing for EU customers"]
    assert history["has_more"] is False
    top = {m["ts"]: m for m in history["messages"]}
    assert {k: top[parent][k] for k in ("thread_ts", "reply_count", "latest_reply", "reply_users")} == {
        "thread_ts": parent,
        "reply_count": 2,
        "latest_reply": broadcast,
        "reply_users": ["U0CAROL", "U0BOB"],
    }
    assert top[broadcast]["subtype"] == "thread_broadcast" and top[broadcast]["thread_ts"] == parent
    assert "thread_ts" not in top[later] and "reply_count" not in top[later]
    assert reply not in top

    # Bounds exclude their own ts unless inclusive (Slack's default is false).
    between = await slack.conversations_history(channel=channel.id, oldest=parent, latest=broadcast)
    assert stamps(between) == [later]
    inclusive = await slack.conversations_history(channel=channel.id, oldest=parent, latest=broadcast, inclusive=True)
    assert stamps(inclusive) == [broadcast, later, parent]
    newest = await slack.conversations_history(channel=channel.id, limit=1)
    assert stamps(newest) == [broadcast] and newest["has_more"] is True
    older = await slack.conversations_history(channel=channel.id, cursor=newest["response_metadata"]["next_cursor"])
    assert stamps(older) == [later, parent]
    with pytest.raises(SlackApiError) as refused:
        await slack.conversations_history(channel=channel.id, latest="yesterday")
    assert refused.value.response["error"] == "invalid_ts_latest"


async def test_replies_gives_the_parent_then_its_replies_and_any_other_message_alone(
    double: SlackDouble, slack: AsyncWebClient
) -> None:
    channel = double.add_channel("ops", members={"U0BOB", "U0CAROL"}, bot_member=True)
    parent, reply = a_thread(double, channel.id)
    second = double.user_posts("U0BOB", channel.id, "Raising it to 200", thread_ts=parent)
    lone = double.user_posts("U0BOB", channel.id, "Status page updated")

    thread = await slack.conversations_replies(channel=channel.id, ts=parent)
    assert stamps(thread) == [parent, reply, second]
    assert thread["messages"][0]["reply_count"] == 2
    assert [m["parent_user_id"] for m in thread["messages"][1:]] == ["U0BOB", "U0BOB"]
    # A reply's ts gives that reply alone, with its thread_ts: how an app finds a reacted reply.
    (alone,) = (await slack.conversations_replies(channel=channel.id, ts=reply))["messages"]
    assert (alone["ts"], alone["thread_ts"], alone["text"]) == (reply, parent, "db-3's pool is exhausted")
    (unthreaded,) = (await slack.conversations_replies(channel=channel.id, ts=lone))["messages"]
    assert unthreaded["ts"] == lone and "thread_ts" not in unthreaded

    # oldest / latest / inclusive as for history; limit and cursor page through the thread.
    assert stamps(await slack.conversations_replies(channel=channel.id, ts=parent, oldest=reply)) == [second]
    upto = await slack.conversations_replies(channel=channel.id, ts=parent, latest=reply, inclusive=True)
    assert stamps(upto) == [parent, reply]
    first = await slack.conversations_replies(channel=channel.id, ts=parent, limit=1)
    assert stamps(first) == [parent] and first["has_more"] is True
    rest = await slack.conversations_replies(
        channel=channel.id, ts=parent, limit=5, cursor=first["response_metadata"]["next_cursor"]
    )
    assert stamps(rest) == [reply, second] and rest["has_more"] is False

    with pytest.raises(SlackApiError) as refused:
        await slack.conversations_replies(channel=channel.id, ts="1600000000.000100")
    assert refused.value.response["error"] == "thread_not_found"


async def test_replies_needs_membership_and_the_history_scope(double: SlackDouble, slack: AsyncWebClient) -> None:
    outside = double.add_channel("elsewhere", members={"U0BOB"})
    ts = double.user_posts("U0BOB", outside.id, "hello")
    with pytest.raises(SlackApiError) as refused:
        await slack.conversations_replies(channel=outside.id, ts=ts)
    assert refused.value.response["error"] == "not_in_channel"
    outside.members.add(double.bot_user_id)
    double.scopes = manifest_bot_scopes() - {"channels:history"}
    with pytest.raises(SlackApiError) as refused:
        await slack.conversations_replies(channel=outside.id, ts=ts)
    assert refused.value.response["error"] == "missing_scope"
