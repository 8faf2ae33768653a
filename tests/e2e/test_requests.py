"""Requests other than a happy declare: refusals, forged requests, Slack failures, health and metrics."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.conftest import StartTocsin, settle
from tests.slack_double import SlackDouble


def created_channels(double: SlackDouble) -> list[str]:
    return [c.name for c in double.channels.values() if c.name.startswith("inc-")]


@pytest.mark.parametrize("transport", ["http", "socket"])
@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("explode", "I don't know the subcommand “explode”. Usage: `/incident help`"),
        ("declare sev7 Broken", "“sev7” isn't a severity here; use one of SEV1, SEV2, SEV3, SEV4."),
        ("list please", "`list` takes no arguments. Usage: `/incident list`"),
        ("declare sev1 " + "x" * 200, "That title is 200 characters; keep it to 120"),
        ("stats 7d", "Choose a window: 30d, 90d or all (and --share to post it in the channel)."),
        ("followup INC-99 Add an alert", "There is no INC-99 here."),
        ("followup Add an alert due 2026-02-30", "“2026-02-30” isn't a date; write it as YYYY-MM-DD."),
        ("resolve fixed it", "This isn't an incident channel; name the incident, e.g. `/incident note INC-42 …`."),
        ("sev INC-99 1", "There is no INC-99 here."),
    ],
)
async def test_bad_input_gets_a_one_line_ephemeral_reply_and_changes_nothing(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str, text: str, reply: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    ack = await double.slash_command("U0ALICE", double.channel_named("general").id, text, via=transport)
    await settle(tocsin)
    assert ack.status == 200
    shown = ([ack.text] if ack.text else []) + double.replies_to("U0ALICE")
    assert len(shown) == 1 and reply in shown[0] and "\n" not in shown[0]
    if ack.text:
        assert ack.body["response_type"] == "ephemeral"
    assert all(r["response_type"] == "ephemeral" for r in double.responses)
    assert created_channels(double) == []
    assert not double.calls_to("conversations.create")


async def test_help_lists_every_subcommand(double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str) -> None:
    tocsin = await start_tocsin(sqlite_url)
    await double.slash_command("U0ALICE", double.channel_named("general").id, "help")
    await settle(tocsin)
    (reply,) = double.replies_to("U0ALICE")
    subcommands = ("declare", "ic", "comms", "role", "sev", "status", "update", "note", "page", "resolve")
    for sub in (*subcommands, "followup", "followups", "postmortem", "stats", "runbook", "oncall", "timeline"):
        assert f"`/incident {sub}" in reply
    assert "_(not yet available)_" not in reply  # every contract subcommand is built


async def test_list_shows_open_incidents_most_severe_first(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    general = double.channel_named("general").id
    await double.slash_command("U0ALICE", general, "list")
    await settle(tocsin)
    assert "No open incidents" in double.replies_to("U0ALICE")[-1]
    for text in ("declare sev3 Slow search", "declare sev1 Checkout down"):
        await double.slash_command("U0ALICE", general, text)
        await settle(tocsin)
    await double.slash_command("U0BOB", general, "list")
    await settle(tocsin)
    listing = double.replies_to("U0BOB")[-1]
    assert "2 open incidents" in listing
    assert listing.index("INC-2: Checkout down") < listing.index("INC-1: Slow search")


async def test_forged_unsigned_and_stale_requests_get_401_and_change_nothing(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    await start_tocsin(sqlite_url)
    body = urlencode(
        {
            "team_id": double.team_id,
            "channel_id": double.channel_named("general").id,
            "user_id": "U0ALICE",
            "command": "/incident",
            "text": "declare sev1 Forged",
            "trigger_id": "1.abc",
            "response_url": f"{double.base_url}/respond/x",
        }
    )
    form = "application/x-www-form-urlencoded"
    forged = {"X-Slack-Signature": "v0=" + "0" * 64}
    assert (await double.post_signed(body, content_type=form, headers=forged)).status == 401
    stale = await double.post_signed(body, content_type=form, timestamp=int(time.time()) - 6 * 60)
    assert stale.status == 401
    assert double.app_url is not None
    async with (
        aiohttp.ClientSession() as session,
        session.post(double.app_url, data=body, headers={"Content-Type": form}) as response,
    ):
        assert response.status == 401
    assert double.calls_to("conversations.create") == []


async def test_rate_limited_calls_are_retried_after_retry_after(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    double.fail_next("conversations.create", retry_after=1)
    double.fail_next("chat.postMessage", retry_after=1, times=2)
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Busy Slack")
    await settle(tocsin)
    channel = double.find_channel_named("inc-1-busy-slack")
    assert channel is not None and channel.messages, "the header was posted after the 429s"
    assert double.messages_in("#incidents"), "the announcement was posted after the 429s"
    limited = [c for c in double.calls if c.error == "ratelimited"]
    assert len(limited) == 3
    metrics = tocsin.metrics.render().decode()
    assert 'tocsin_slack_api_errors_total{error="ratelimited",method="chat.postMessage"}' not in metrics


async def test_a_failed_announcement_is_reported_to_the_declarer_and_the_incident_still_opens(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, policy=Policy(broadcast_channel="#no-such-channel"))
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Lonely incident")
    await settle(tocsin)
    assert double.channel_named("inc-1-lonely-incident").messages
    replies = double.replies_to("U0ALICE")
    assert any("announce #no-such-channel: channel_not_found" in r for r in replies)


async def test_severity_stakeholder_channels_are_notified_on_declare(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double.add_channel("leadership")
    policy = Policy.model_validate(
        {"severities": [{"name": "SEV1", "notify": ["#leadership"]}, {"name": "SEV2"}], "default_severity": "SEV2"}
    )
    tocsin = await start_tocsin(sqlite_url, policy=policy)
    general = double.channel_named("general").id
    await double.slash_command("U0ALICE", general, "declare sev2 Minor thing")
    await settle(tocsin)
    assert double.messages_in("#leadership") == []
    await double.slash_command("U0ALICE", general, "declare sev1 Major thing")
    await settle(tocsin)
    assert "Major thing" in double.messages_in("#leadership")[0]["text"]


async def test_when_slack_refuses_the_channel_the_declarer_is_told_why(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    double.scopes.discard("channels:manage")
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 No scope")
    await settle(tocsin)
    assert any("refused to create its channel (missing_scope)" in r for r in double.replies_to("U0ALICE"))


async def test_healthz_and_metrics(double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str) -> None:
    tocsin = await start_tocsin(sqlite_url)
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev1 Count me")
    await settle(tocsin)
    base = f"http://127.0.0.1:{tocsin.port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"database": "ok", "slack": "ok"}
        async with session.get(f"{base}/metrics") as response:
            text = await response.text()
            assert response.headers["Content-Type"].startswith("text/plain")
    assert 'tocsin_incidents_declared_total{severity="SEV1"} 1.0' in text
    assert 'tocsin_slack_api_calls_total{method="conversations.create"} 1.0' in text
    assert "tocsin_slack_up 1.0" in text


async def test_socket_mode_does_not_take_slack_requests_over_http(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    await start_tocsin(sqlite_url, transport="socket")
    ack = await double.post_signed("command=/incident&text=list", content_type="application/x-www-form-urlencoded")
    assert ack.status == 404


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_an_error_right_after_the_ack_still_acks_and_tells_the_user(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    double.fail_next("views.open", "expired_trigger_id", retry_after=None)
    ack = await double.slash_command("U0ALICE", double.channel_named("general").id, "declare", via=transport)
    await settle(tocsin)
    assert ack.status == 200 and ack.seconds < 1
    (told,) = double.replies_to("U0ALICE")
    assert told == ":hourglass: Slack gave Tocsin too little time to open that form. Please try again."


async def test_the_bots_own_pin_of_the_header_is_not_captured(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    # Bolt ignores events the bot caused only if it knows the bot's user id (from auth.test at start).
    tocsin = await start_tocsin(sqlite_url)
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Self pins")
    await settle(tocsin)
    channel = double.channel_named("inc-1-self-pins")
    header_ts = channel.messages[0]["ts"]
    await double.deliver_event(double.pin_event(double.bot_user_id, channel.id, header_ts))
    await settle(tocsin)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        incident = await uow.incidents.by_number(double.team_id, 1)
        assert incident is not None
        kinds = [e.kind.value for e in await uow.incidents.timeline(incident.id)]
    assert "message" not in kinds
