"""Catching people up: `/incident summary`, the summary for whoever joins, and the new IC's DM."""

from __future__ import annotations

import pytest

from bot.app import Tocsin
from tests.builders import declare
from tests.conftest import StartTocsin, settle
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TRANSPORTS = ["http", "socket"]

Running = tuple[Tocsin, Channel]  # the app, and incident 1's channel


@pytest.fixture
async def running(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, request: pytest.FixtureRequest
) -> Running:
    """Incident 1 declared over `request.param` (http by default), with an update, a note, a follow-up and a page."""
    double.add_user("U0DAVE", "dave")
    double.add_user("U0ERIN", "erin")
    via = getattr(request, "param", "http")
    tocsin = await start_tocsin(sqlite_url, transport=via)
    channel = await declare(double, tocsin, "declare sev2 Checkout errors", via=via)
    for text in (
        "update Card payments fail for 20% of EU customers",
        "note Rolled back deploy 4411",
        "followup Add an alert on the payment error rate @carol",
        "page @erin",
    ):
        await double.slash_command("U0ALICE", channel.id, text, via=via)
        await settle(tocsin)
    return tocsin, channel


def summaries_to(double: SlackDouble, user: str) -> list[str]:
    return [text for text in double.replies_to(user) if text.startswith(":information_source:")]


@pytest.mark.parametrize(("running", "transport"), [(t, t) for t in TRANSPORTS], indirect=["running"])
async def test_summary_tells_a_newcomer_where_the_incident_stands(
    double: SlackDouble, running: Running, transport: str
) -> None:
    tocsin, channel = running
    before = len(channel.messages)
    await double.slash_command("U0ALICE", channel.id, "summary", via=transport)
    await settle(tocsin)
    (summary,) = summaries_to(double, "U0ALICE")
    assert summary.startswith(":information_source: *INC-1: Checkout errors* · *SEV2* · Investigating · running")
    assert "*Roles:* Incident Commander <@U0ALICE>" in summary
    assert "Card payments fail for 20% of EU customers" in summary.split("*Last update*", 1)[1]
    assert "*Next update due:* <!date^" in summary
    recent = summary.split("*Recently:*", 1)[1]
    assert "*Note* · <@U0ALICE> — Rolled back deploy 4411" in recent
    assert "Channel" not in recent and "Header" not in recent  # Tocsin's own book-keeping is left out
    assert "Add an alert on the payment error rate (<@U0CAROL>)" in summary
    assert "*Paging now (not yet acknowledged):*" in summary
    assert len(channel.messages) == before  # privately

    await double.slash_command("U0ALICE", channel.id, "summary --share", via=transport)
    await settle(tocsin)
    assert channel.messages[-1]["text"].startswith(":information_source: *INC-1: Checkout errors*")


@pytest.mark.parametrize(("running", "transport"), [(t, t) for t in TRANSPORTS], indirect=["running"])
async def test_whoever_joins_gets_the_summary_once(double: SlackDouble, running: Running, transport: str) -> None:
    tocsin, channel = running
    await double.deliver_event(double.member_joined_event("U0DAVE", channel.id), via=transport)
    await settle(tocsin)
    assert len(summaries_to(double, "U0DAVE")) == 1
    assert double.ephemerals[-1]["channel"] == channel.id  # shown in the channel, to dave alone

    channel.members.discard("U0DAVE")  # he leaves and comes back: no second summary
    await double.deliver_event(double.member_joined_event("U0DAVE", channel.id), via=transport)
    await double.deliver_event(double.member_joined_event(double.bot_user_id, channel.id), via=transport)
    await settle(tocsin)
    assert len(summaries_to(double, "U0DAVE")) == 1
    assert summaries_to(double, double.bot_user_id) == []


async def test_someone_invited_with_a_role_is_not_summarised_but_a_new_ic_gets_a_dm(
    double: SlackDouble, running: Running
) -> None:
    tocsin, channel = running
    await double.slash_command("U0ALICE", channel.id, "comms @bob")
    await settle(tocsin)
    # Slack tells the app Tocsin invited bob as it made him comms lead: the role message said why.
    await double.deliver_event(double.member_joined_event("U0BOB", channel.id, inviter=double.bot_user_id))
    await settle(tocsin)
    assert summaries_to(double, "U0BOB") == []

    await double.slash_command("U0ALICE", channel.id, "ic @dave")
    await settle(tocsin)
    (dm,) = [m for m in double.dm_messages("U0DAVE") if "You're now the Incident Commander" in m["text"]]
    said = dm["text"] + str(dm["blocks"])
    assert "INC-1: Checkout errors" in said and "Card payments fail" in said


async def test_summary_of_a_named_incident_from_elsewhere(double: SlackDouble, running: Running) -> None:
    tocsin, _ = running
    await double.slash_command("U0BOB", double.channel_named("general").id, "summary INC-1")
    await settle(tocsin)
    (summary,) = summaries_to(double, "U0BOB")
    assert "*INC-1: Checkout errors*" in summary
    await double.slash_command("U0BOB", double.channel_named("general").id, "summary INC-1 --share")
    await settle(tocsin)
    assert double.channel_named("general").messages == []  # shared only in the incident's own channel
