"""Requests an attacker could craft with a valid signature: another workspace, a control pointed at
another incident, someone else's page, a replayed request."""

from __future__ import annotations

import pytest

from bot.incidents import TimelineKind
from tests.conftest import StartTocsin, settle, stored_incident, stored_timeline
from tests.e2e.test_response import declare
from tests.slack_double import SlackDouble

TRANSPORTS = ["http", "socket"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_requests_from_another_workspace_are_refused_without_side_effects(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    general = double.channel_named("general").id
    header = channel.messages[0]
    calls_before = len(double.calls)

    command = {**double.slash_payload("U0BOB", general, "declare sev1 Not yours"), "team_id": "T0OTHER"}
    ack = await double.deliver(command, kind="slash_commands", via=transport)
    click = double.click_payload("U0BOB", channel.id, header["ts"], "incident_acknowledge")
    click["team"]["id"] = "T0OTHER"
    await double.deliver(click, kind="interactive", via=transport)
    forged_user = double.click_payload("U0BOB", channel.id, header["ts"], "incident_acknowledge")
    forged_user["user"]["team_id"] = "T0OTHER"  # one team field out of several is enough to refuse
    await double.deliver(forged_user, kind="interactive", via=transport)
    ts = double.user_posts("U0BOB", channel.id, "a message from elsewhere")
    event = double.pin_event("U0BOB", channel.id, ts)
    event["team_id"] = "T0OTHER"
    await double.deliver_event(event, via=transport)
    await settle(tocsin)

    if transport == "http":
        assert ack.status == 403
    assert [c.name for c in double.channels.values() if c.name.startswith("inc-")] == [channel.name]
    incident = await stored_incident(tocsin, 1)
    assert incident.acknowledged_by is None
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert double.calls[calls_before:] == []  # not one Web API call on their behalf
