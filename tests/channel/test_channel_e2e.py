"""The incident channel as a workspace, end to end through the real app, the strict Slack double (over
HTTP and Socket Mode) and both databases: the call bridge, bookmarks, `/incident title`, and channels that
archive themselves and continue when reopened."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.incidents import Status, TimelineKind
from bot.domain.policy import Policy
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, jobs_of, settle, stored_incident, stored_timeline
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel
from tests.zoom_double import ZoomDouble

TRANSPORTS = ["http", "socket"]


async def run(double: SlackDouble, tocsin: Tocsin, user: str, channel: Channel, text: str, via: str) -> list[str]:
    """`/incident text` typed by `user` in `channel`; what they were told privately."""
    before = len(double.replies_to(user))
    ack = await double.slash_command(user, channel.id, text, via=via)
    await settle(tocsin)
    return ([ack.text] if ack.text else []) + double.replies_to(user)[before:]


def everything_outside(double: SlackDouble, channel: Channel) -> str:
    """Every message Tocsin posted anywhere but `channel`, and every private reply to someone outside it."""
    posted = [m for c in double.channels.values() if c.id != channel.id for m in c.messages]
    replies = [r for user in double.users if user not in channel.members for r in double.replies_to(user)]
    return repr(posted) + repr(replies) + repr(double.bookmarks_in("x"))


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_a_declared_incident_gets_its_call_and_bookmarks_and_the_call_can_be_shown_or_replaced(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, via: str
) -> None:
    policy = Policy.model_validate({"bridge": {"kind": "jitsi", "url": "https://jitsi.example.com"}})
    tocsin = await start_tocsin(database_url, transport=via, policy=policy)
    channel = await declare(double, tocsin, via=via)
    incident = await stored_incident(tocsin, 1)
    assert incident.bridge_url is not None and incident.bridge_url.startswith("https://jitsi.example.com/Tocsin-INC-1-")
    marks = {b["title"]: b for b in double.bookmarks_in(channel.id)}
    assert marks["Join the call"]["link"] == incident.bridge_url and marks["Join the call"]["type"] == "link"
    assert "Incident header" in marks
    told = await run(double, tocsin, "U0BOB", channel, "bridge", via)
    assert any(incident.bridge_url in t for t in told)
    assert not any(incident.bridge_url in m["text"] for m in double.messages_in("incidents"))
    await run(double, tocsin, "U0ALICE", channel, "bridge https://meet.example.com/war-room", via)
    assert (await stored_incident(tocsin, 1)).bridge_url == "https://meet.example.com/war-room"
    marks = {b["title"]: b for b in double.bookmarks_in(channel.id)}
    assert marks["Join the call"]["link"] == "https://meet.example.com/war-room"
    assert len([b for b in double.bookmarks_in(channel.id) if b["title"] == "Join the call"]) == 1
    assert any("war-room" in m["text"] for m in channel.messages)
    refused = await run(double, tocsin, "U0ALICE", channel, "bridge not-a-link", via)
    assert any("http(s) URL" in t for t in refused)


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_a_private_incidents_bridge_never_appears_outside_its_channel(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, via: str
) -> None:
    policy = Policy.model_validate(
        {"bridge": {"kind": "jitsi"}, "private_incidents": {"notice": "A private incident is being handled."}}
    )
    tocsin = await start_tocsin(database_url, transport=via, policy=policy)
    channel = await declare(double, tocsin, "declare --private sev2 Payroll leak", via=via)
    incident = await stored_incident(tocsin, 1)
    assert incident.private and incident.bridge_url
    await run(double, tocsin, "U0ALICE", channel, "bridge https://meet.example.com/secret-room", via)
    general = double.channel_named("general")
    told = await run(double, tocsin, "U0CAROL", general, "bridge INC-1", via)  # not in the channel: no such incident
    assert not any("meet.example.com" in t for t in told)
    outside = everything_outside(double, channel)
    assert "secret-room" not in outside and incident.bridge_url not in outside
    assert any(b["link"].endswith("secret-room") for b in double.bookmarks_in(channel.id))  # inside, it is there


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_a_bookmark_refused_by_slack_does_not_stop_the_declare(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, via: str, caplog: pytest.LogCaptureFixture
) -> None:
    double.refuse_bookmarks = "restricted_action"  # a free plan, say
    tocsin = await start_tocsin(
        database_url, transport=via, policy=Policy.model_validate({"bridge": {"kind": "jitsi"}})
    )
    with caplog.at_level(logging.WARNING):
        channel = await declare(double, tocsin, via=via)
        await run(double, tocsin, "U0ALICE", channel, "bridge https://meet.example.com/2", via)
        await run(double, tocsin, "U0ALICE", channel, "sev 1 worse", via)
    incident = await stored_incident(tocsin, 1)
    assert incident.header_ts and incident.bridge_url == "https://meet.example.com/2" and incident.severity == "SEV1"
    assert channel.messages and channel.pins
    refusals = [r for r in caplog.records if "refuses bookmarks" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].exc_info is None
    timeline = " ".join(e.text for e in await stored_timeline(tocsin, 1))
    assert "bookmark" not in timeline.lower()


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_title_renames_the_channel_and_updates_the_header_and_the_announcement(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, via: str
) -> None:
    tocsin = await start_tocsin(database_url, transport=via)
    channel = await declare(double, tocsin, via=via)
    double.add_channel("inc-1-payment-provider-outage")  # someone took the name: a suffix follows
    await run(double, tocsin, "U0BOB", channel, "title Payment provider outage", via)
    incident = await stored_incident(tocsin, 1)
    assert incident.title == "Payment provider outage"
    assert channel.name == "inc-1-payment-provider-outage-2" == incident.channel_name
    assert "Payment provider outage" in repr(channel.messages[0]["blocks"])  # the header
    announcement = next(m for m in double.messages_in("incidents") if "INC-1" in m["text"])
    assert "Payment provider outage" in announcement["text"]
    assert any("retitled" in m["text"] for m in channel.messages)
    assert any("Retitled" in e.text and e.kind is TimelineKind.RETITLED for e in await stored_timeline(tocsin, 1))
    told = await run(double, tocsin, "U0BOB", channel, "title   ", via)
    assert any("Give the new title" in t for t in told)


async def test_a_private_incident_is_retitled_without_its_channel_showing_the_title(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    tocsin = await start_tocsin(database_url)
    channel = await declare(double, tocsin, "declare --private sev2 Payroll leak")
    name = channel.name
    await run(double, tocsin, "U0ALICE", channel, "title Salary data exposed", "http")
    assert (await stored_incident(tocsin, 1)).title == "Salary data exposed"
    assert channel.name == name and "salary" not in channel.name
    assert not any("Salary" in m["text"] for m in double.messages_in("incidents"))


WEEK = {"archive_after": "7d"}


async def close(double: SlackDouble, tocsin: Tocsin, channel: Channel, via: str, *, postmortem: bool = True) -> None:
    await run(double, tocsin, "U0ALICE", channel, "resolve fixed the pool", via)
    if postmortem:
        await run(double, tocsin, "U0ALICE", channel, "postmortem done", via)


async def tick(tocsin: Tocsin) -> None:
    await jobs_of(tocsin).tick()
    await settle(tocsin)


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_a_channel_is_warned_and_archived_a_week_after_its_postmortem(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock, via: str
) -> None:
    tocsin = await start_tocsin(database_url, transport=via, policy=Policy.model_validate(WEEK), clock=clock)
    channel = await declare(double, tocsin, via=via)
    await close(double, tocsin, channel, via)
    clock.advance(days=5, hours=23)
    await tick(tocsin)
    assert not any(b.get("block_id") == "archive_warning" for m in channel.messages for b in m["blocks"])
    clock.advance(hours=1)
    await tick(tocsin)
    warning = next(m for m in channel.messages if any(b.get("block_id") == "archive_warning" for b in m["blocks"]))
    assert "Keep open" in repr(warning["blocks"]) and not channel.is_archived
    clock.advance(days=1)
    await tick(tocsin)
    assert channel.is_archived
    assert any("archived" in e.text and e.kind is TimelineKind.CHANNEL for e in await stored_timeline(tocsin, 1))


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_keep_open_cancels_the_archive(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock, via: str
) -> None:
    tocsin = await start_tocsin(database_url, transport=via, policy=Policy.model_validate(WEEK), clock=clock)
    channel = await declare(double, tocsin, via=via)
    await close(double, tocsin, channel, via)
    clock.advance(days=6)
    await tick(tocsin)
    warning = next(m for m in channel.messages if any(b.get("block_id") == "archive_warning" for b in m["blocks"]))
    await double.click("U0BOB", channel.id, warning["ts"], "channel_keep_open", via=via)
    await settle(tocsin)
    assert "kept this channel open" in warning["text"] and "Keep open" not in repr(warning["blocks"])
    clock.advance(days=30)
    await tick(tocsin)
    assert not channel.is_archived
    assert any("kept open" in e.text for e in await stored_timeline(tocsin, 1))


@pytest.mark.parametrize("via", TRANSPORTS)
async def test_reopening_an_archived_incident_continues_in_a_new_channel(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock, via: str
) -> None:
    policy = Policy.model_validate({**WEEK, "bridge": {"kind": "jitsi"}})
    tocsin = await start_tocsin(database_url, transport=via, policy=policy, clock=clock)
    channel = await declare(double, tocsin, "declare sev4 Flaky nightly export", via=via)
    await run(double, tocsin, "U0ALICE", channel, "comms @bob", via)
    await close(double, tocsin, channel, via)  # resolved, and its postmortem done: the incident is closed
    clock.advance(days=7)
    await tick(tocsin)
    assert channel.is_archived and (await stored_incident(tocsin, 1)).status is Status.CLOSED
    general = double.channel_named("general")
    await run(double, tocsin, "U0ALICE", general, "reopen INC-1 it is back", via)
    incident = await stored_incident(tocsin, 1)
    assert incident.channel_id != channel.id and incident.status is Status.INVESTIGATING
    assert any(e.kind is TimelineKind.REOPENED and e.text == "it is back" for e in await stored_timeline(tocsin, 1))
    new = double.channels[incident.channel_id or ""]
    assert new.name == "inc-1-flaky-nightly-export-2" == incident.channel_name
    assert {"U0ALICE", "U0BOB"} <= new.members
    first: dict[str, Any] = new.messages[0]
    assert f"<#{channel.id}>" in first["text"] and "Where it got to" in first["text"]
    assert incident.header_ts in new.pins
    assert any("reopened" in m["text"].lower() for m in new.messages[1:])
    assert {b["title"] for b in double.bookmarks_in(new.id)} >= {"Previous channel", "Incident header", "Join the call"}
    assert any("continues" in e.text for e in await stored_timeline(tocsin, 1))
    clock.advance(days=30)
    await tick(tocsin)
    assert not new.is_archived  # the reopen cancelled any countdown


async def test_a_severity_without_a_postmortem_posts_no_draft_and_its_channel_goes_a_week_after_resolving(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    severities = [{"name": f"SEV{n}"} for n in (1, 2, 3)] + [{"name": "SEV4", "postmortem": False}]
    policy = Policy.model_validate({**WEEK, "severities": severities})
    tocsin = await start_tocsin(database_url, policy=policy, clock=clock)
    minor = await declare(double, tocsin, "declare sev4 Flaky nightly export")
    major = await declare(double, tocsin, "declare sev2 Checkout errors")
    before = len(double.calls)
    await close(double, tocsin, minor, "http", postmortem=False)
    drafts = [c.method for c in double.calls[before:] if "canvas" in c.method or c.method.startswith("files.")]
    assert drafts == [] and "Postmortem draft" not in {b["title"] for b in double.bookmarks_in(minor.id)}
    await close(double, tocsin, major, "http", postmortem=False)  # SEV2 has one: its channel waits for it
    assert any("canvas" in c.method or c.method.startswith("files.") for c in double.calls[before:])
    clock.advance(days=7)
    await tick(tocsin)
    assert minor.is_archived and not major.is_archived
    assert (await stored_incident(tocsin, 1)).status is Status.RESOLVED  # archived with no postmortem done


async def test_a_zoom_bridge_is_made_through_zooms_api(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoom = await ZoomDouble().start()
    try:
        monkeypatch.setenv("ZOOM_ACCOUNT_ID", zoom.account_id)
        monkeypatch.setenv("ZOOM_CLIENT_ID", zoom.client_id)
        monkeypatch.setenv("ZOOM_CLIENT_SECRET", zoom.client_secret)
        bridge = {"kind": "zoom", "api_url": zoom.base_url, "oauth_url": zoom.base_url}
        tocsin = await start_tocsin(database_url, policy=Policy.model_validate({"bridge": bridge}))
        channel = await declare(double, tocsin)
        await declare(double, tocsin, "declare --private sev3 Secret things")
        first, second = await stored_incident(tocsin, 1), await stored_incident(tocsin, 2)
        assert first.bridge_url == zoom.meetings[0]["join_url"] and second.bridge_url == zoom.meetings[1]["join_url"]
        assert [m["topic"] for m in zoom.meetings] == [
            "INC-1: Checkout errors",
            "INC-2",
        ]  # a private title stays in Slack
        assert zoom.tokens_issued() == 1
        assert any(b["link"] == first.bridge_url for b in double.bookmarks_in(channel.id))
    finally:
        await zoom.stop()


async def test_a_zoom_bridge_without_credentials_is_a_set_up_problem_not_a_failed_declare(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOOM_ACCOUNT_ID", raising=False)
    tocsin = await start_tocsin(database_url, policy=Policy.model_validate({"bridge": {"kind": "zoom"}}))
    channel = await declare(double, tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.header_ts and incident.bridge_url is None and channel.pins
    assert any("ZOOM_ACCOUNT_ID" in e.text for e in await stored_timeline(tocsin, 1))
