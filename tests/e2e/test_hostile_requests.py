"""Requests an attacker could craft with a valid signature: another workspace, a control pointed at
another incident, someone else's page, a replayed request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.incidents import TimelineKind
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline
from tests.e2e.test_alerts import post
from tests.e2e.test_alerts import start as start_alerts
from tests.e2e.test_declare import mrkdwn_texts
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TRANSPORTS = ["http", "socket"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_request_naming_another_workspace_anywhere_is_acknowledged_and_ignored(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    general = double.find_channel_named("general")
    assert general is not None
    header = channel.messages[0]
    calls_before = len(double.calls)

    command = {**double.slash_payload("U0BOB", general.id, "declare sev1 Not yours"), "team_id": "T0OTHER"}
    command_ack = await double.deliver(command, kind="slash_commands", via=transport)
    click = double.click_payload("U0BOB", channel.id, header["ts"], "incident_acknowledge")
    click["team"]["id"] = "T0OTHER"
    forged_user = double.click_payload("U0BOB", channel.id, header["ts"], "incident_acknowledge")
    forged_user["user"]["team_id"] = "T0OTHER"  # one team field out of several is enough
    ts = double.user_posts("U0BOB", channel.id, "a message from elsewhere")
    event = double.pin_event("U0BOB", channel.id, ts)
    event["team_id"] = "T0OTHER"  # an unshared channel's event happened in the envelope's team
    acks = [
        await double.deliver(click, kind="interactive", via=transport),
        await double.deliver(forged_user, kind="interactive", via=transport),
        await double.deliver_event(event, via=transport),
    ]
    await settle(tocsin)

    # Acknowledged, so Slack does not deliver it again; the command's sender is told why.
    assert [a.status for a in [command_ack, *acks]] == [200] * 4
    assert "only for people in its own workspace" in command_ack.body["text"]
    assert [c.name for c in double.channels.values() if c.name.startswith("inc-")] == [channel.name]
    incident = await stored_incident(tocsin, 1)
    assert incident.acknowledged_by is None
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert double.calls[calls_before:] == []  # not one Web API call on their behalf


async def test_a_control_naming_another_incident_is_refused(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    first = await declare(double, tocsin, "declare sev2 Checkout errors")
    second = await declare(double, tocsin, "declare sev3 Search is slow")
    other_block = next(b["block_id"] for b in second.messages[0]["blocks"] if b.get("type") == "actions")
    crafted = double.click_payload("U0ALICE", first.id, first.messages[0]["ts"], "incident_acknowledge")
    crafted["actions"][0]["block_id"] = other_block  # clicked in INC-1's channel, naming INC-2
    await double.deliver(crafted, kind="interactive", via="http")
    await settle(tocsin)
    assert (await stored_incident(tocsin, 2)).acknowledged_by is None
    assert any("belongs to another incident's channel" in r for r in double.replies_to("U0ALICE"))
    await double.click("U0ALICE", second.id, second.messages[0]["ts"], "incident_acknowledge")  # in its own channel
    await settle(tocsin)
    assert (await stored_incident(tocsin, 2)).acknowledged_by == "U0ALICE"


async def test_only_the_person_paged_can_answer_the_page(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url)
    await declare(double, tocsin)
    await double.slash_command("U0ALICE", double.channel_named("inc-1-checkout-errors").id, "page @bob")
    await settle(tocsin)
    (dm,) = [m for m in double.dm_messages("U0BOB") if "being paged" in m["text"]]
    dm_channel = next(c for c in double.channels.values() if c.is_im and "U0BOB" in c.members)
    for action in ("page_acknowledge", "page_decline"):  # carol crafts clicks on bob's DM
        crafted = double.click_payload("U0CAROL", dm_channel.id, dm["ts"], action)
        await double.deliver(crafted, kind="interactive", via="http")
    await settle(tocsin)
    assert sum("only the people it paged" in r for r in double.replies_to("U0CAROL")) == 2
    page_entries = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.ACKNOWLEDGED]
    assert page_entries == [] and (await stored_incident(tocsin, 1)).acknowledged_by is None
    await double.click("U0BOB", dm_channel.id, dm["ts"], "page_acknowledge")
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).acknowledged_by == "U0BOB"


async def test_a_replayed_request_is_carried_out_once(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin)
    payload = double.slash_payload("U0ALICE", channel.id, "note Rolled back the deploy")
    for _ in range(3):  # the same signed body, sent again within the five-minute window
        ack = await double.deliver(payload, kind="slash_commands", via="http")
        assert ack.status == 200
    await settle(tocsin)
    notes = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.NOTE]
    assert [n.text for n in notes] == ["Rolled back the deploy"]


async def test_outside_text_reaching_slack_is_inert(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_alerts(start_tocsin, sqlite_url, clock)
    declared: dict[str, Any] = {"dedup_key": "db-1", "title": "<!channel> database down", "severity": "critical"}
    declared["labels"] = {"team": "payments"}  # routed to declare an incident
    noticed = {"dedup_key": "db-2", "title": "disk <!here> full", "url": "http://a> <!channel> <http://b"}
    for alert in (declared, noticed):
        assert (await post(tocsin, "generic", alert))[0] == 200
    await settle(tocsin)
    notice = next(m for m in double.messages_in("#incidents") if "Alert firing" in m["text"])
    assert "disk &lt;!here&gt; full" in notice["text"] and "source URL was not a plain http(s) link" in notice["text"]
    assert "<!channel>" not in json.dumps(notice) and "<http" not in json.dumps(notice)
    channel = next(c for c in double.channels.values() if c.name.startswith("inc-"))
    assert channel.purpose == "INC-1: &lt;!channel&gt; database down"
    # A forged follow-up owner from a crafted form is refused in the form, not rendered as <@<!channel>>.
    own = await declare(double, tocsin, "declare sev3 Search is slow")
    summary_view = await open_follow_up_form(double, tocsin, own)
    ack = await double.submit_view("U0ALICE", summary_view, {"follow_up_text": "Fix", "follow_up_owner": "<!channel>"})
    assert ack.body["response_action"] == "errors" and "follow_up_owner" in ack.body["errors"]
    parsed = [t for c in double.channels.values() for m in c.messages for t in mrkdwn_texts(m)]
    assert parsed and not [t for t in parsed if "<!channel>" in t or "<!here>" in t]
    assert "<" not in channel.topic.replace("<@U0TOCSINBOT>", "")


async def open_follow_up_form(double: SlackDouble, tocsin: Tocsin, channel: Channel) -> str:
    await double.slash_command("U0ALICE", channel.id, "resolve Fixed")
    await settle(tocsin)
    summary = next(m for m in channel.messages if "postmortem draft for" in m["text"])
    await double.click("U0ALICE", channel.id, summary["ts"], "follow_up_add")
    await settle(tocsin)
    return list(double.views)[-1]
