"""Message shortcuts end to end: declaring from a message, and adding a message to a timeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.incidents import TimelineKind
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_timeline
from tests.slack_double import SlackDouble

TRANSPORTS = ["http", "socket"]
REPORT = "Checkout returns 502 for every EU customer since the 14:02 deploy\nSee the error dashboard"


def view_with(double: SlackDouble, callback_id: str) -> dict[str, Any]:
    (view,) = [v for v in double.views.values() if v["callback_id"] == callback_id]
    return view


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]
    return found


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_declaring_from_a_message_starts_its_timeline_with_it(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    general = double.channel_named("general")
    ts = double.user_posts("U0BOB", general.id, REPORT)

    payload = double.message_shortcut_payload("U0ALICE", general.id, ts, "declare_from_message")
    ack = await double.deliver(payload, kind="interactive", via=transport)
    await double.deliver(payload, kind="interactive", via=transport)  # a redelivery: its trigger_id is spent
    await settle(tocsin)
    assert ack.status == 200 and ack.seconds < 3
    view = view_with(double, "declare_incident")  # one form, whatever the redelivery
    assert (
        element(view, "title")["initial_value"] == "Checkout returns 502 for every EU customer since the 14:02 deploy"
    )
    assert element(view, "description")["initial_value"] == REPORT

    await double.submit_view(
        "U0ALICE", view["id"], {"title": "EU checkout 502s", "severity": "SEV2", "description": REPORT}, via=transport
    )
    await settle(tocsin)

    first, *_ = await stored_timeline(tocsin, 1)
    assert first.kind is TimelineKind.MESSAGE and first.actor == "U0BOB" and first.text == REPORT
    assert first.occurred_at == datetime.fromtimestamp(float(ts), UTC) and first.permalink
    (pointer,) = [m for m in general.messages if m.get("thread_ts") == ts]
    assert "INC-1: EU checkout 502s" in pointer["text"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_adding_a_message_in_an_incident_channel_counts_once(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    ts = double.user_posts("U0BOB", channel.id, "The pool is exhausted on db-3")
    for _ in range(2):
        await double.message_shortcut("U0ALICE", channel.id, ts, "add_to_timeline", via=transport)
        await settle(tocsin)
    await double.deliver_event(double.pin_event("U0CAROL", channel.id, ts), via=transport)  # pinned later: once
    await settle(tocsin)
    messages = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert [(e.actor, e.text) for e in messages] == [("U0BOB", "The pool is exhausted on db-3")]
    said = double.replies_to("U0ALICE")
    assert ":pushpin: Added to the timeline of INC-1: Checkout errors." in said
    assert "That message is already on the timeline of INC-1: Checkout errors." in said


async def test_adding_a_message_from_elsewhere_asks_which_incident_the_person_may_see(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    await declare(double, tocsin, "declare sev2 Checkout errors")
    await declare(double, tocsin, "declare --private sev1 Suspicious admin logins", user="U0CAROL")
    general = double.channel_named("general")
    ts = double.user_posts("U0BOB", general.id, "Customers report failed payments")

    await double.message_shortcut("U0ALICE", general.id, ts, "add_to_timeline")
    await settle(tocsin)
    view = view_with(double, "add_to_timeline")
    options = [o["text"]["text"] for o in element(view, "incident")["options"]]
    assert options == ["INC-1: Checkout errors"]  # not carol's private INC-2
    assert "Suspicious" not in json.dumps(view)

    await double.submit_view("U0ALICE", view["id"], {"incident": "1"})
    await settle(tocsin)
    entries = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert [(e.actor, e.text, e.occurred_at) for e in entries] == [
        ("U0BOB", "Customers report failed payments", datetime.fromtimestamp(float(ts), UTC))
    ]

    # A crafted submission naming the private incident is refused, and nothing is added to it.
    crafted = double.view_submission("U0ALICE", view["id"], {"incident": "1"})
    crafted["view"]["state"]["values"]["incident"]["value"]["selected_option"]["value"] = "2"
    await double.deliver(crafted, kind="interactive", via="http")
    await settle(tocsin)
    assert not [e for e in await stored_timeline(tocsin, 2) if e.kind is TimelineKind.MESSAGE]
    assert "That incident no longer exists." in double.replies_to("U0ALICE")[-1]


async def test_with_no_open_incident_the_shortcut_says_so(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    general = double.channel_named("general")
    ts = double.user_posts("U0BOB", general.id, "Is something down?")
    await double.message_shortcut("U0ALICE", general.id, ts, "add_to_timeline")
    await settle(tocsin)
    assert double.views == {}
    assert any("There are no open incidents" in text for text in double.replies_to("U0ALICE"))


async def test_a_private_incident_declared_from_a_message_leaves_no_pointer_under_it(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    general = double.channel_named("general")
    ts = double.user_posts("U0BOB", general.id, "Someone is logging in as the CFO")
    await double.message_shortcut("U0ALICE", general.id, ts, "declare_from_message")
    await settle(tocsin)
    view = view_with(double, "declare_incident")
    await double.submit_view("U0ALICE", view["id"], {"title": "CFO account", "severity": "SEV1", "private": "private"})
    await settle(tocsin)
    assert double.channel_named("inc-1-private").is_private
    assert [m for m in general.messages if m.get("user") == double.bot_user_id] == []
    first, *_ = await stored_timeline(tocsin, 1)
    assert first.text == "Someone is logging in as the CFO"
