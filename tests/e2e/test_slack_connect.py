"""Slack Connect: an incident channel shared with another organisation. What its people do reaches
Tocsin (events, clicks, forms, commands) and is acknowledged, so Slack neither retries it nor disables the
event subscription, but never acted on; what our own people do there is. Payloads take the shapes Slack
sends in shared channels (the envelope's team_id naming the other organisation, `context_team_id`,
`is_ext_shared_channel`, the event's `team` / `user_team`), as bolt-python's tests record them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.domain.incidents import TimelineKind
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_incident, stored_timeline
from tests.slack_double import SlackDouble

TRANSPORTS = ["http", "socket"]
PARTNER = "T0PARTNER"  # the other organisation's workspace
PARTNER_ORG = "E0PARTNER"


def shared(double: SlackDouble, envelope: dict[str, Any], *, team_id: str = PARTNER) -> dict[str, Any]:
    """An event envelope as Slack sends it from a shared channel: the envelope's team_id may name the
    other organisation whoever acted; `authorizations` and `context_team_id` name our installation."""
    return {
        **envelope,
        "team_id": team_id,
        "enterprise_id": PARTNER_ORG if team_id == PARTNER else None,
        "context_team_id": double.team_id,
        "context_enterprise_id": None,
        "is_ext_shared_channel": True,
    }


def by_partner(payload: dict[str, Any]) -> dict[str, Any]:
    """An interaction (click, form) by someone of the other organisation."""
    return {**payload, "team": {"id": PARTNER, "domain": "partner"}, "user": {**payload["user"], "team_id": PARTNER}}


def warnings_about(caplog: pytest.LogCaptureFixture, team: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and team in r.getMessage()]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_our_people_in_a_shared_incident_channel_are_served(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(database_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    ts = double.user_posts("U0BOB", channel.id, "the pool is exhausted")
    ack = await double.deliver_event(shared(double, double.pin_event("U0BOB", channel.id, ts)), via=transport)
    joined = shared(double, double.member_joined_event("U0CAROL", channel.id))  # event.team: ours
    await double.deliver_event(joined, via=transport)
    await settle(tocsin)
    assert ack.status == 200
    pinned = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert pinned == ["the pool is exhausted"]
    assert double.replies_to("U0CAROL"), "carol, who joined, was caught up"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_other_organisation_is_acknowledged_and_ignored_and_logged_once(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    double.add_user("U0PAT", "pat")  # of the other organisation, a member of the shared channel
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    header = channel.messages[0]
    await double.click("U0ALICE", channel.id, header["ts"], "incident_post_update", via=transport)
    await settle(tocsin)
    view_id = list(double.views)[-1]  # a form open, to be submitted by pat
    calls_before = len(double.calls)

    joined = double.member_joined_event("U0PAT", channel.id)
    joined["event"]["team"] = PARTNER
    edit_target = double.user_posts("U0PAT", channel.id, "we see errors too")
    edited = double.edit_event(channel.id, edit_target, "we see errors too, since 09:58")
    edited["event"]["message"]["team"] = edited["event"]["previous_message"]["team"] = PARTNER
    command = {**double.slash_payload("U0PAT", channel.id, "resolve Not yours to resolve"), "team_id": PARTNER}
    click = by_partner(double.click_payload("U0PAT", channel.id, header["ts"], "incident_acknowledge"))
    form = by_partner(double.view_submission("U0PAT", view_id, {"known": "Pool exhausted"}))
    elsewhere = double.pin_event("U0BOB", channel.id, edit_target)  # addressed to another installation
    elsewhere["authorizations"][0]["team_id"] = "T0ELSEWHERE"

    acks = [
        await double.deliver_event(shared(double, joined), via=transport),
        await double.deliver_event(shared(double, edited), via=transport),
        await double.deliver(click, kind="interactive", via=transport),
        await double.deliver_event(elsewhere, via=transport),
    ]
    command_ack = await double.deliver(command, kind="slash_commands", via=transport)
    form_ack = await double.deliver(form, kind="interactive", via=transport)
    await settle(tocsin)

    assert [a.status for a in [*acks, command_ack, form_ack]] == [200] * 6  # nothing for Slack to retry
    assert "only for people in its own workspace" in command_ack.body["text"]
    assert command_ack.body["response_type"] == "ephemeral"
    assert form_ack.body["response_action"] == "errors"
    assert "only for people in its own workspace" in next(iter(form_ack.body["errors"].values()))
    incident = await stored_incident(tocsin, 1)
    assert incident.acknowledged_by is None and incident.resolved_at is None
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.UPDATE]
    assert double.calls[calls_before:] == []  # not one Web API call on their behalf, no welcome for pat
    assert len(warnings_about(caplog, PARTNER)) == 1  # once for the workspace, not once per request
    assert len(warnings_about(caplog, "T0ELSEWHERE")) == 1
