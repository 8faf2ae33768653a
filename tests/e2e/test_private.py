"""Private incidents end to end: a private channel, nothing about it outside it, members only — checked
against the double, which hides a private channel from anyone outside it as Slack does."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.policy import Policy
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident
from tests.e2e.test_timers import tick
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TRANSPORTS = ["http", "socket"]
TITLE = "Leaked credentials ZX9Q"
SECRET_UPDATE = "Rotating the signing keys QW7R"
SECRET_NOTE = "The attacker used token KP3M"
SECRET_FOLLOW_UP = "Rotate the CI secrets VN2L"
SECRET_SUMMARY = "Keys rotated RS4T"
SECRETS = (TITLE, "ZX9Q", SECRET_UPDATE, SECRET_NOTE, SECRET_FOLLOW_UP, SECRET_SUMMARY, "inc-1-private")
NOTICE = "A private incident was declared; contact #security."
POLICY = {
    "severities": [
        {"name": "SEV1", "update_every": "15m", "notify": ["#leadership"]},
        {"name": "SEV2", "update_every": "30m"},
        {"name": "SEV3", "update_every": "60m"},
        {"name": "SEV4", "update_every": None},
    ],
    "private_incidents": {"notice": NOTICE},
}

PrivateIncident = tuple[Tocsin, Channel, str]  # the app, the incident's private channel, the transport


def everything_said(message: dict[str, Any]) -> str:
    text: str = message.get("text", "")
    return text + json.dumps(message.get("blocks", []))


def outside_views(double: SlackDouble, private: Channel, *, outsiders: set[str]) -> list[str]:
    """Everything the double saw that someone outside `private` can read: every other channel's messages
    (DMs included), and the replies, ephemerals and App Home tabs of `outsiders`."""
    seen = [everything_said(m) for c in double.channels.values() if c.id != private.id for m in c.messages]
    seen += [json.dumps(r) for r in double.responses if r["user_id"] in outsiders]
    seen += [json.dumps(e) for e in double.ephemerals if e["user"] in outsiders]
    seen += [json.dumps(view) for user, view in double.home_views.items() if user in outsiders]
    return seen


def leaks(seen: list[str]) -> list[str]:
    return [text[:200] for text in seen for secret in SECRETS if secret in text]


async def say(
    double: SlackDouble, tocsin: Tocsin, user: str, channel: Channel, text: str, via: str = "http"
) -> list[str]:
    before = Counter(double.replies_to(user))
    ack = await double.slash_command(user, channel.id, text, via=via)
    await settle(tocsin)
    return ([ack.text] if ack.text else []) + list((Counter(double.replies_to(user)) - before).elements())


@pytest.fixture
async def private_incident(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, request: pytest.FixtureRequest
) -> PrivateIncident:
    """A private SEV1 declared by alice over `request.param` (http by default): the app, its channel, the transport."""
    transport = getattr(request, "param", "http")
    double.add_user("U0DAVE", "dave")
    double.add_channel("leadership")
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate(POLICY), transport=transport)
    general = double.channel_named("general")
    await say(double, tocsin, "U0ALICE", general, f"declare --private sev1 {TITLE}", via=transport)
    channel = double.find_channel_named("inc-1-private")
    assert channel is not None
    return tocsin, channel, transport


@pytest.mark.parametrize("private_incident", TRANSPORTS, indirect=True)
async def test_a_private_incident_stays_in_its_channel_on_every_surface(
    double: SlackDouble, private_incident: PrivateIncident
) -> None:
    tocsin, channel, via = private_incident
    general = double.channel_named("general")
    assert channel.is_private and channel.members == {double.bot_user_id, "U0ALICE"}
    assert (await stored_incident(tocsin, 1)).private
    assert [m["text"] for m in double.channel_named("incidents").messages] == [f":lock: {NOTICE}"]
    assert double.channel_named("leadership").messages == []

    await say(double, tocsin, "U0ALICE", channel, f"update {SECRET_UPDATE}", via=via)
    await say(double, tocsin, "U0ALICE", channel, f"note {SECRET_NOTE}", via=via)
    await say(double, tocsin, "U0ALICE", channel, "sev 2 contained", via=via)
    await say(double, tocsin, "U0ALICE", channel, "sev 1 spreading again", via=via)  # an upgrade tells no one
    await say(double, tocsin, "U0ALICE", channel, "page @carol", via=via)
    (page,) = [m for m in double.dm_messages("U0CAROL") if "being paged" in m["text"]]
    assert "a private incident" in page["text"]

    # Bob is not in the channel: to him there is no INC-1, exactly as there is no INC-99.
    for asked in ("timeline INC-1", "summary INC-1", "followups INC-1", "note INC-1 hello", "public INC-1"):
        (reply,) = await say(double, tocsin, "U0BOB", general, asked, via=via)
        assert reply == ":warning: There is no INC-1 here.", asked
    (missing,) = await say(double, tocsin, "U0BOB", general, "timeline INC-99", via=via)
    assert missing == ":warning: There is no INC-99 here."
    (listing,) = await say(double, tocsin, "U0BOB", general, "list", via=via)
    assert "INC-1" not in listing
    await say(double, tocsin, "U0BOB", general, "followups open", via=via)
    await say(double, tocsin, "U0BOB", general, "stats --share", via=via)
    await double.deliver_event(double.home_opened_event("U0BOB"), via=via)
    await settle(tocsin)
    assert "INC-1" not in json.dumps(double.home_views["U0BOB"])

    # Alice is: she sees it everywhere.
    (mine,) = await say(double, tocsin, "U0ALICE", general, "list", via=via)
    assert TITLE in mine
    await double.deliver_event(double.home_opened_event("U0ALICE"), via=via)
    await settle(tocsin)
    assert TITLE in json.dumps(double.home_views["U0ALICE"])

    # Carol acknowledges the page: she is invited, and from then on sees it.
    dm = next(c for c in double.channels.values() if c.is_im and "U0CAROL" in c.members)
    await double.click("U0CAROL", dm.id, page["ts"], "page_acknowledge", via=via)
    await settle(tocsin)
    assert "U0CAROL" in channel.members
    carols = await say(double, tocsin, "U0CAROL", general, "list", via=via)
    assert any(TITLE in reply for reply in carols), carols

    await say(double, tocsin, "U0ALICE", channel, f"followup {SECRET_FOLLOW_UP} @dave", via=via)
    assert "U0DAVE" in channel.members  # its reminders will tell him the text: he is let in
    assert any(SECRET_FOLLOW_UP in r for r in await say(double, tocsin, "U0ALICE", general, "followups open", via=via))
    (bobs,) = await say(double, tocsin, "U0BOB", general, "followups open", via=via)
    assert SECRET_FOLLOW_UP not in bobs
    await say(double, tocsin, "U0ALICE", channel, f"resolve {SECRET_SUMMARY}", via=via)
    assert (await stored_incident(tocsin, 1)).resolved_at is not None
    await double.deliver_event(double.home_opened_event("U0BOB"), via=via)
    await settle(tocsin)

    assert leaks(outside_views(double, channel, outsiders={"U0BOB"})) == []
    assert any(SECRET_UPDATE in everything_said(m) for m in channel.messages)  # the sweep can find it


async def test_only_its_ic_makes_a_private_incident_public_in_a_new_channel(
    double: SlackDouble, private_incident: PrivateIncident
) -> None:
    tocsin, channel, _ = private_incident
    await say(double, tocsin, "U0ALICE", channel, "page @carol")
    dm = next(c for c in double.channels.values() if c.is_im and "U0CAROL" in c.members)
    await double.click("U0CAROL", dm.id, double.dm_messages("U0CAROL")[0]["ts"], "page_acknowledge")
    await settle(tocsin)
    (refused,) = await say(double, tocsin, "U0CAROL", channel, "public")
    assert refused == ":warning: Only the Incident Commander or a Tocsin admin may make a private incident public here."
    assert (await stored_incident(tocsin, 1)).private

    await say(double, tocsin, "U0ALICE", channel, "public")

    incident = await stored_incident(tocsin, 1)
    public = double.channel_named("inc-1-leaked-credentials-zx9q")
    assert not incident.private and incident.channel_id == public.id and not public.is_private
    assert {"U0ALICE", "U0CAROL"} <= public.members
    assert channel.is_archived and f"<#{public.id}>" in channel.messages[-1]["text"]
    assert any(TITLE in m["text"] for m in double.channel_named("incidents").messages)
    assert any(TITLE in m["text"] for m in double.channel_named("leadership").messages)
    (listing,) = await say(double, tocsin, "U0BOB", double.channel_named("general"), "list")
    assert TITLE in listing
    await say(double, tocsin, "U0ALICE", public, "update Now public")
    assert any("Now public" in m["text"] for m in double.channel_named("incidents").messages)


async def test_a_public_incident_is_not_made_private(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    await say(double, tocsin, "U0ALICE", double.channel_named("general"), "declare sev2 Checkout errors")
    channel = double.channel_named("inc-1-checkout-errors")
    (refused,) = await say(double, tocsin, "U0ALICE", channel, "private")
    assert refused.startswith(":warning: INC-1 has been public since it was declared")
    assert "declare --private" in refused
    assert not (await stored_incident(tocsin, 1)).private


async def test_the_policy_makes_a_severity_private_and_may_restrict_who_declares_private(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    policy = {
        "severities": [{"name": "SEV1", "private": True}, {"name": "SEV2"}],
        "default_severity": "SEV2",
        "permissions": {"declare_private": ["U0ALICE"]},
    }
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate(policy))
    general = double.channel_named("general")
    (refused,) = await say(double, tocsin, "U0BOB", general, "declare --private sev2 Payroll question")
    assert refused == ":warning: Only <@U0ALICE> may declare private incidents here."
    assert double.channel_named("incidents").messages == [] and not any(c.is_private for c in double.channels.values())

    await say(double, tocsin, "U0BOB", general, "declare sev1 Breach of the HR system")  # private by the policy
    channel = double.find_channel_named("inc-1-private")
    assert channel is not None and channel.is_private and "U0BOB" in channel.members
    assert double.channel_named("incidents").messages == []  # no notice configured: nothing at all


async def test_the_declare_form_has_a_private_checkbox(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare --private")
    await settle(tocsin)
    (view,) = double.views.values()
    (checkbox,) = [b for b in view["blocks"] if b["block_id"] == "private"]
    assert checkbox["element"]["initial_options"][0]["value"] == "private"
    await double.submit_view(
        "U0ALICE", view["id"], {"title": "Suspicious logins", "severity": "SEV2", "private": "private"}
    )
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).private
    assert double.channel_named("inc-1-private").is_private


async def test_slack_refusing_the_member_list_hides_the_private_incident(
    double: SlackDouble, private_incident: PrivateIncident
) -> None:
    tocsin, channel, _ = private_incident
    double.fail_next("conversations.members", "internal_error")
    tocsin.deps.visibility.forget(channel.id)
    (listing,) = await say(double, tocsin, "U0ALICE", double.channel_named("general"), "list")
    assert TITLE not in listing  # fail closed: hidden, even from a member, rather than shown to anyone
    (again,) = await say(double, tocsin, "U0ALICE", double.channel_named("general"), "list")
    assert TITLE in again


async def test_a_page_nobody_answers_for_a_private_incident_is_told_only_in_its_channel(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(POLICY))
    await say(double, tocsin, "U0ALICE", double.channel_named("general"), f"declare --private sev1 {TITLE}")
    channel = double.channel_named("inc-1-private")
    await say(double, tocsin, "U0ALICE", channel, "page @erin")
    clock.advance(minutes=5)
    await tick(tocsin)
    assert any("Nobody acknowledged the page" in m["text"] for m in channel.messages)
    assert [m["text"] for m in double.channel_named("incidents").messages] == [f":lock: {NOTICE}"]
    assert leaks(outside_views(double, channel, outsiders={"U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"})) == []


async def test_going_public_that_slack_interrupts_is_finished_by_the_sweep_once(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(POLICY))
    await say(double, tocsin, "U0ALICE", double.channel_named("general"), f"declare --private sev1 {TITLE}")
    private = double.channel_named("inc-1-private")
    private.members.add("U0CAROL")  # someone who joined by hand
    double.fail_next("conversations.archive", "service_unavailable")  # retryable, but not by the client itself
    await say(double, tocsin, "U0ALICE", private, "public")
    assert not private.is_archived and (await stored_incident(tocsin, 1)).moved_from == private.id

    clock.advance(minutes=2)
    await tick(tocsin)  # the set-up sweep finishes the move

    public = double.channel_named("inc-1-leaked-credentials-zx9q")
    assert private.is_archived and {"U0ALICE", "U0CAROL"} <= public.members
    pointers = [m for m in private.messages if f"<#{public.id}>" in m["text"]]
    assert len(pointers) == 1  # found by its mark, not posted again
    incident = await stored_incident(tocsin, 1)
    assert incident.moved_from is None and incident.channel_id == public.id
