"""Related past incidents end to end, through the real app and the strict Slack double: the post in a new
incident's channel, `/incident related` over both transports, the Link button (both ways), the offer to
join an open incident instead of declaring it again, and a private incident kept out of public view."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.event_kinds import EventKind
from bot.domain.incidents import TimelineKind
from bot.domain.policy import Policy
from bot.slack.blocks import related as views
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TRANSPORTS = ["http", "socket"]
POLICY = Policy.model_validate({"services": {"checkout": {"keywords": ["checkout", "payment"]}}})


async def say(double: SlackDouble, tocsin: Tocsin, user: str, channel: Channel, text: str, via: str = "http") -> None:
    await double.slash_command(user, channel.id, text, via=via)
    await settle(tocsin)


async def past_incident(double: SlackDouble, tocsin: Tocsin, clock: FakeClock, text: str, via: str = "http") -> Channel:
    """Declared, resolved, and two hours ago (no longer a lookalike of a new declare)."""
    channel = await declare(double, tocsin, text, via=via)
    await say(double, tocsin, "U0ALICE", channel, "resolve Connection pool resized", via=via)
    clock.advance(hours=2)
    return channel


def related_post(channel: Channel) -> dict[str, Any] | None:
    marked = (
        m
        for m in channel.messages
        if any(str(b.get("block_id", "")).startswith(views.RELATED_BLOCK) for b in m.get("blocks", []))
    )
    return next(marked, None)


def said(item: dict[str, Any]) -> str:
    return json.dumps(item)


@pytest.fixture
async def tocsin(double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock) -> Tocsin:
    return await start_tocsin(database_url, policy=POLICY, clock=clock)


async def test_a_new_channel_shows_the_earlier_related_incident_and_link_records_it_both_ways(
    double: SlackDouble, tocsin: Tocsin, clock: FakeClock
) -> None:
    await past_incident(double, tocsin, clock, "declare sev2 Checkout payment errors")
    await declare(double, tocsin, "declare sev3 Disk full on the build server")  # unrelated: nothing posted
    first_unrelated = max((c for c in double.channels.values() if c.name.startswith("inc-2")), key=lambda c: c.id)
    assert related_post(first_unrelated) is None
    clock.advance(hours=2)
    channel = await declare(double, tocsin, "declare sev2 Checkout payment latency")
    post = related_post(channel)
    assert post is not None and "INC-1" in said(post) and "INC-2" not in said(post)
    assert "Connection pool" not in said(post)  # the summary is not shown, only what the line says

    await double.click("U0ALICE", channel.id, post["ts"], views.LINK)
    await settle(tocsin)
    for number, other in ((3, "INC-1"), (1, "INC-3")):
        lines = [e.text for e in await stored_timeline(tocsin, number) if e.kind is TimelineKind.RELATED]
        assert any(f"Linked as related to {other}" in line for line in lines)
    for number in (1, 3):
        incident_id = (await stored_incident(tocsin, number)).id
        async with UnitOfWork(session_factory(tocsin.engine), read_only=True) as uow:
            events = await uow.events.of_incident(incident_id)
        assert [e.kind for e in events].count(EventKind.INCIDENT_LINKED) == 1

    await double.click("U0BOB", channel.id, post["ts"], views.LINK)  # twice: nothing more is recorded
    await settle(tocsin)
    assert any("already linked" in r for r in double.replies_to("U0BOB"))
    lines = [e.text for e in await stored_timeline(tocsin, 3) if "Linked as related" in e.text]
    assert len(lines) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_incident_related_and_the_summary_reply_only_to_you_over_both_transports(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, policy=POLICY, clock=clock, transport=transport)
    await past_incident(double, tocsin, clock, "declare sev2 Checkout payment errors", via=transport)
    channel = await declare(double, tocsin, "declare sev2 Checkout payment latency", via=transport)
    posted = len(channel.messages)
    await say(double, tocsin, "U0BOB", channel, "related", via=transport)
    reply = next(r for r in reversed(double.responses) if r["user_id"] == "U0BOB")
    assert "INC-1" in said(reply) and views.LINK in said(reply)
    assert len(channel.messages) == posted  # to bob only
    await say(double, tocsin, "U0BOB", channel, "summary", via=transport)
    summary = next(r for r in reversed(double.responses) if r["user_id"] == "U0BOB")
    assert "Earlier incidents that look related" in said(summary) and "INC-1" in said(summary)
    await say(double, tocsin, "U0BOB", double.channel_named("general"), "related INC-1", via=transport)
    assert any("No earlier incidents look related to INC-1" in r for r in double.replies_to("U0BOB"))


def offer_to(double: SlackDouble, user: str) -> dict[str, Any]:
    reply = next(r for r in reversed(double.responses) if r["user_id"] == user and r.get("blocks"))
    assert views.JOIN in said(reply)
    return {"ts": "1700000000.000001", "text": reply.get("text", ""), "blocks": reply["blocks"]}


async def test_declaring_what_is_already_open_offers_to_join_it_instead(
    double: SlackDouble, tocsin: Tocsin, clock: FakeClock
) -> None:
    first = await declare(double, tocsin, "declare sev1 Checkout is down")
    clock.advance(minutes=10)
    general = double.channel_named("general")
    await say(double, tocsin, "U0CAROL", general, "declare sev1 Payment failing everywhere")
    assert not [c for c in double.channels.values() if c.name.startswith("inc-2")]  # not declared yet
    offer = offer_to(double, "U0CAROL")
    assert "INC-1" in said(offer) and "Declare anyway" in said(offer)

    await double.click("U0CAROL", general.id, offer["ts"], views.JOIN, message=offer)
    await settle(tocsin)
    assert "U0CAROL" in first.members

    await double.click("U0CAROL", general.id, offer["ts"], views.DECLARE_ANYWAY, message=offer)
    await double.click("U0CAROL", general.id, offer["ts"], views.DECLARE_ANYWAY, message=offer)  # twice
    await settle(tocsin)
    second = await stored_incident(tocsin, 2)
    assert second.title == "Payment failing everywhere" and second.severity == "SEV1"
    assert second.declared_by == "U0CAROL"
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.incidents.by_number("T0TOCSIN", 3) is None  # one declare, however many clicks


async def test_the_declare_form_offers_to_join_an_open_lookalike_too(
    double: SlackDouble, tocsin: Tocsin, clock: FakeClock
) -> None:
    await declare(double, tocsin, "declare sev1 Checkout is down")
    clock.advance(minutes=5)
    general = double.channel_named("general")
    await say(double, tocsin, "U0CAROL", general, "declare")  # no title: the form
    (form,) = [v for v in double.views.values() if v.get("type") == "modal"]  # the one form opened
    await double.submit_view("U0CAROL", form["id"], {"title": "Checkout down for everyone", "severity": "SEV1"})
    await settle(tocsin)
    assert not [c for c in double.channels.values() if c.name.startswith("inc-2")]  # not declared yet
    # carol is not in #general, where the form was opened: the offer comes as a DM
    (offer,) = [m for m in double.dm_messages("U0CAROL") if views.JOIN in said(m)]
    assert "INC-1" in said(offer) and "Declare anyway" in said(offer) and "Checkout down for everyone" in said(offer)


async def test_an_open_incident_of_more_than_an_hour_ago_is_not_offered(
    double: SlackDouble, tocsin: Tocsin, clock: FakeClock
) -> None:
    await declare(double, tocsin, "declare sev1 Checkout is down")
    clock.advance(minutes=61)
    await declare(double, tocsin, "declare sev1 Checkout is down again", user="U0BOB")
    assert (await stored_incident(tocsin, 2)).title == "Checkout is down again"


async def test_a_private_incident_is_never_shown_in_a_channel_nor_to_someone_outside_it(
    double: SlackDouble, tocsin: Tocsin, clock: FakeClock
) -> None:
    secret = await declare(double, tocsin, "declare --private sev2 Checkout payment errors QX7")
    await say(double, tocsin, "U0ALICE", secret, "resolve Rotated the keys")
    clock.advance(hours=2)
    channel = await declare(double, tocsin, "declare sev2 Checkout payment latency", user="U0BOB")
    assert related_post(channel) is None  # its only related incident is private: nothing posted
    await say(double, tocsin, "U0BOB", channel, "related")  # bob is not in the private channel
    await say(double, tocsin, "U0BOB", channel, "summary --share")
    before = len(double.responses)
    await say(double, tocsin, "U0ALICE", channel, "related")  # alice is
    public_views = [said(m) for c in double.channels.values() if c.id != secret.id for m in c.messages]
    public_views += [said(r) for r in double.responses if r["user_id"] == "U0BOB"]
    assert not [v for v in public_views if "QX7" in v or "INC-1" in v]
    to_alice = [said(r) for r in double.responses[before:] if r["user_id"] == "U0ALICE"]
    assert any("INC-1" in r and "(private)" in r for r in to_alice)
    assert not any("QX7" in r for r in to_alice)  # a private incident's title stays in its channel
