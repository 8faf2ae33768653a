"""Running an incident from its channel, end to end through the real app and the strict Slack double."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import Tocsin
from bot.domain.incidents import Status, TimelineKind
from bot.domain.policy import Policy
from bot.slack.ids import View
from storage.db import session_factory
from storage.models import RoleAssignmentRow
from storage.uow import UnitOfWork
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_incident, stored_timeline
from tests.e2e.test_declare import mrkdwn_texts
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TRANSPORTS = ["http", "socket"]
Ready = tuple[Tocsin, Channel]  # the app, and incident 1's channel
STAKEHOLDER_POLICY = {
    "severities": [
        {"name": "SEV1", "update_every": "15m", "notify": ["#leadership"]},
        {"name": "SEV2", "update_every": "30m"},
        {"name": "SEV3", "update_every": "60m"},
        {"name": "SEV4", "update_every": None},
    ],
    "default_severity": "SEV3",
}


async def run(
    double: SlackDouble, tocsin: Tocsin, user: str, channel: Channel, text: str, via: str = "http"
) -> list[str]:
    before = len(double.replies_to(user))
    ack = await double.slash_command(user, channel.id, text, via=via)
    await settle(tocsin)
    return ([ack.text] if ack.text else []) + double.replies_to(user)[before:]


def header(channel: Channel) -> dict[str, Any]:
    return channel.messages[0]


def header_fields(channel: Channel) -> str:
    return " ".join(f["text"] for f in header(channel)["blocks"][1]["fields"])


@pytest.fixture
async def ready(double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str) -> Ready:
    """Tocsin with the stakeholder policy, and the channel of incident 1 declared in it."""
    double.add_user("U0DAVE", "dave")
    double.add_channel("leadership")
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate(STAKEHOLDER_POLICY))
    channel = await declare(double, tocsin)
    return tocsin, channel


async def active_holders(tocsin: Tocsin, role: str) -> list[str]:
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert uow._session is not None
        rows = await uow._session.exec(  # a direct look at the table: exactly one open assignment
            select(RoleAssignmentRow).where(RoleAssignmentRow.role == role, col(RoleAssignmentRow.ended_at).is_(None))
        )
        return [r.user_id for r in rows.all()]


# ----- roles ------------------------------------------------------------------------------------
async def test_assigning_roles_by_command_invites_hands_over_and_updates_the_header(
    double: SlackDouble, ready: Ready
) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0ALICE", channel, "ic @bob")
    await run(double, tocsin, "U0BOB", channel, "comms @carol")  # the new IC assigns the rest
    await run(double, tocsin, "U0BOB", channel, "role scribe @dave")
    assert {"U0BOB", "U0CAROL", "U0DAVE"} <= channel.members
    incident = await stored_incident(tocsin, 1)
    assert incident.roles == {"incident_commander": "U0BOB", "comms_lead": "U0CAROL", "scribe": "U0DAVE"}
    assert await active_holders(tocsin, "incident_commander") == ["U0BOB"]
    fields = header_fields(channel)
    assert "*Incident Commander*\n<@U0BOB>" in fields and "*Communications Lead*\n<@U0CAROL>" in fields
    assert channel.topic == "SEV2 · Investigating · IC <@U0BOB>"
    roles = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.ROLE_ASSIGNED]
    assert roles[-3].text == "Incident Commander: <@U0BOB> (handed over from <@U0ALICE>)"
    assert any("is now *Incident Commander* (was <@U0ALICE>)" in m["text"] for m in channel.messages)


async def test_assigning_from_the_header_selects(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    await double.click("U0ALICE", channel.id, header(channel)["ts"], "incident_assign_ic", value="U0CAROL")
    await settle(tocsin)
    await double.click("U0CAROL", channel.id, header(channel)["ts"], "incident_assign_comms", value="U0DAVE")
    await settle(tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.commander == "U0CAROL" and incident.roles["comms_lead"] == "U0DAVE"
    assert {"U0CAROL", "U0DAVE"} <= channel.members


async def test_exactly_one_commander_even_when_two_assignments_race(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    ts = header(channel)["ts"]
    await double.click("U0ALICE", channel.id, ts, "incident_assign_ic", value="U0CAROL")
    await double.click("U0ALICE", channel.id, ts, "incident_assign_ic", value="U0BOB")
    await settle(tocsin)
    assert len(await active_holders(tocsin, "incident_commander")) == 1


async def test_role_refusals(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    assert "Mention one person" in (await run(double, tocsin, "U0BOB", channel, "ic bob"))[0]
    assert "isn't a role" in (await run(double, tocsin, "U0BOB", channel, "role janitor @dave"))[0]
    assert "is already the Incident Commander" in (await run(double, tocsin, "U0BOB", channel, "ic @alice"))[0]
    assert (await stored_incident(tocsin, 1)).commander == "U0ALICE"


async def test_a_bystander_cannot_take_command_or_resolve_through_any_surface(
    double: SlackDouble, ready: Ready
) -> None:
    tocsin, channel = ready
    general = double.channel_named("general")
    ts = header(channel)["ts"]
    before = len(channel.messages)
    await double.click("U0BOB", channel.id, ts, "incident_assign_ic", value="U0BOB")  # the header's select
    await double.click("U0BOB", channel.id, ts, "incident_assign_comms", value="U0DAVE")
    await run(double, tocsin, "U0BOB", general, "ic INC-1 @bob")  # typed from elsewhere
    await run(double, tocsin, "U0BOB", channel, "role scribe @dave")
    await run(double, tocsin, "U0BOB", channel, "status identified")
    await run(double, tocsin, "U0BOB", general, "resolve INC-1 fixed it myself")
    await double.click("U0BOB", channel.id, ts, "incident_resolve")  # the Resolve button opens no form
    await settle(tocsin)
    refusals = double.replies_to("U0BOB")
    assert sum("Only the Incident Commander (<@U0ALICE>) or a Tocsin admin may hand over" in r for r in refusals) == 2
    assert sum("may assign roles here" in r for r in refusals) == 2
    assert any("may change the status here" in r for r in refusals)
    assert sum("may resolve here" in r for r in refusals) == 2
    assert not [v for v in double.views.values() if v.get("callback_id") == View.RESOLVE]
    incident = await stored_incident(tocsin, 1)
    assert incident.roles == {"incident_commander": "U0ALICE"} and incident.status is Status.INVESTIGATING
    assert len(channel.messages) == before  # nothing was announced


async def test_a_vacant_role_can_be_claimed_and_only_the_ic_or_an_admin_passes_on_command(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double.add_user("U0DAVE", "dave")
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate({"admins": ["U0DAVE"]}))
    channel = await declare(double, tocsin)
    await run(double, tocsin, "U0BOB", channel, "comms @bob")  # vacant: bob claims it for himself
    await run(double, tocsin, "U0BOB", channel, "role scribe @carol")  # the comms lead may assign roles…
    refused = await run(double, tocsin, "U0BOB", channel, "ic @bob")  # …but not take command
    assert "Only the Incident Commander (<@U0ALICE>) or a Tocsin admin" in refused[-1]
    await run(double, tocsin, "U0DAVE", channel, "ic @carol")  # an admin may
    incident = await stored_incident(tocsin, 1)
    assert incident.roles == {"incident_commander": "U0CAROL", "comms_lead": "U0BOB", "scribe": "U0CAROL"}
    refused = await run(double, tocsin, "U0ALICE", channel, "resolve done")  # alice no longer holds a role
    assert "may resolve here" in refused[-1]
    await run(double, tocsin, "U0CAROL", channel, "resolve done")
    assert (await stored_incident(tocsin, 1)).status is Status.RESOLVED
    refused = await run(double, tocsin, "U0ALICE", channel, "reopen back again")
    assert "may reopen here" in refused[-1]
    await run(double, tocsin, "U0BOB", channel, "reopen back again")  # the comms lead may
    assert (await stored_incident(tocsin, 1)).status is Status.INVESTIGATING


# ----- severity ---------------------------------------------------------------------------------
async def test_severity_change_records_who_and_why_and_an_upgrade_tells_stakeholders(
    double: SlackDouble, ready: Ready
) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0BOB", channel, "sev 1 customers cannot pay")
    incident = await stored_incident(tocsin, 1)
    assert incident.severity == "SEV1"
    change = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.SEVERITY_CHANGED][-1]
    assert (change.actor, change.text) == ("U0BOB", "SEV2 → SEV1: customers cannot pay")
    assert "customers cannot pay" in double.messages_in("#leadership")[-1]["text"]
    assert channel.topic.startswith("SEV1 · ")
    # downgrading tells the channel, not the stakeholders again
    before = len(double.messages_in("#leadership"))
    await double.click("U0BOB", channel.id, header(channel)["ts"], "incident_set_severity", value="SEV3")
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).severity == "SEV3"
    assert len(double.messages_in("#leadership")) == before


async def test_severity_change_recomputes_the_next_update_due(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0BOB", channel, "update first findings")
    updated = await stored_incident(tocsin, 1)
    assert updated.last_update_at is not None
    assert updated.next_update_due == updated.last_update_at + timedelta(minutes=30)
    await run(double, tocsin, "U0BOB", channel, "sev 1")
    assert (await stored_incident(tocsin, 1)).next_update_due == updated.last_update_at + timedelta(minutes=15)
    await run(double, tocsin, "U0BOB", channel, "sev 4")
    assert (await stored_incident(tocsin, 1)).next_update_due is None


async def test_who_may_change_severity_and_resolve_comes_from_the_policy(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    policy = Policy.model_validate({"permissions": {"severity": ["incident_commander"]}, "admins": ["U0CAROL"]})
    tocsin = await start_tocsin(sqlite_url, policy=policy)
    channel = await declare(double, tocsin)
    assert (
        "Only the Incident Commander may change severity" in (await run(double, tocsin, "U0BOB", channel, "sev 1"))[0]
    )
    refusal = (await run(double, tocsin, "U0BOB", channel, "resolve all good"))[0]
    assert "Only the Incident Commander or the Communications Lead or a Tocsin admin may resolve" in refusal
    assert (await stored_incident(tocsin, 1)).status is Status.INVESTIGATING
    await run(double, tocsin, "U0CAROL", channel, "resolve all good")  # an admin
    assert (await stored_incident(tocsin, 1)).status is Status.RESOLVED


# ----- lifecycle --------------------------------------------------------------------------------
async def test_status_moves_and_illegal_moves_are_refused(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0ALICE", channel, "status identified")
    await run(double, tocsin, "U0ALICE", channel, "status monitoring")
    incident = await stored_incident(tocsin, 1)
    assert incident.status is Status.MONITORING and incident.identified_at and incident.mitigated_at
    assert "is already monitoring" in (await run(double, tocsin, "U0ALICE", channel, "status monitoring"))[0]
    await run(double, tocsin, "U0ALICE", channel, "status resolved")
    refusal = (await run(double, tocsin, "U0ALICE", channel, "status investigating"))[0]
    assert "is resolved. Use `/incident reopen` first" in refusal
    await run(double, tocsin, "U0ALICE", channel, "reopen errors are back")
    reopened = await stored_incident(tocsin, 1)
    assert reopened.status is Status.INVESTIGATING and reopened.resolved_at is None
    assert reopened.next_update_due is not None
    assert "Investigating" in header_fields(channel)


# ----- updates and notes ------------------------------------------------------------------------
async def test_an_update_goes_to_the_channel_broadcast_and_stakeholders_and_resets_the_clock(
    double: SlackDouble, ready: Ready
) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0ALICE", channel, "sev 1")
    await run(double, tocsin, "U0ALICE", channel, "update Failover done <!channel> & verifying")
    for where in (channel.id, "#incidents", "#leadership"):
        posted = double.messages_in(where)[-1]
        assert "Failover done &lt;!channel&gt; &amp; verifying" in posted["text"], where
        assert all("<!channel>" not in t for t in mrkdwn_texts(posted))
    incident = await stored_incident(tocsin, 1)
    assert incident.last_update_at is not None
    assert incident.next_update_due == incident.last_update_at + timedelta(minutes=15)
    assert "*Last update*\n<!date^" in header_fields(channel)
    update = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.UPDATE][-1]
    assert update.text == "What we know: Failover done <!channel> & verifying" and update.actor == "U0ALICE"


async def test_the_post_update_button_opens_a_form_with_the_next_update_prefilled(
    double: SlackDouble, ready: Ready
) -> None:
    tocsin, channel = ready
    await double.click("U0BOB", channel.id, header(channel)["ts"], "incident_post_update")
    await settle(tocsin)
    view = list(double.views.values())[-1]
    prefilled = view["blocks"][3]["element"]["initial_date_time"]
    expected = datetime.now(UTC) + timedelta(minutes=30)
    assert abs(prefilled - expected.timestamp()) < 60
    next_at = int(expected.timestamp()) + 600
    values = {"known": "Root cause is a bad deploy", "doing": "Rolling back", "next_update": next_at}
    ack = await double.submit_view("U0BOB", view["id"], values)
    await settle(tocsin)
    assert ack.status == 200
    posted = channel.messages[-1]["text"]
    assert "*What we know:* Root cause is a bad deploy" in posted and "*What we're doing:* Rolling back" in posted
    assert (await stored_incident(tocsin, 1)).next_update_due == datetime.fromtimestamp(next_at, UTC)


async def test_an_update_form_without_text_is_refused_beside_the_field(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0BOB", channel, "update")
    ack = await double.submit_view("U0BOB", list(double.views)[-1], {"known": "  "})
    assert ack.body["response_action"] == "errors" and "known" in ack.body["errors"]


async def test_an_overlong_update_is_trimmed_with_a_visible_note(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    await run(double, tocsin, "U0BOB", channel, "update " + "x" * 5000)
    body = channel.messages[-1]["blocks"][1]["text"]["text"]
    assert len(body) <= 3000 and body.endswith("(trimmed)")


async def test_a_note_joins_the_timeline(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    replies = await run(double, tocsin, "U0BOB", channel, "note restarted the pool on db-2")
    assert replies == [":memo: Added to the INC-1 timeline."]
    note = (await stored_timeline(tocsin, 1))[-1]
    assert (note.kind, note.actor, note.text) == (TimelineKind.NOTE, "U0BOB", "restarted the pool on db-2")


async def test_commands_outside_an_incident_channel_name_the_incident(double: SlackDouble, ready: Ready) -> None:
    tocsin, _ = ready
    general = double.channel_named("general")
    assert "This isn't an incident channel" in (await run(double, tocsin, "U0BOB", general, "note hi"))[0]
    await run(double, tocsin, "U0BOB", general, "note INC-1 from afar")
    assert (await stored_timeline(tocsin, 1))[-1].text == "from afar"


# ----- acknowledge and resolve -------------------------------------------------------------------
async def test_acknowledge_records_the_first_and_says_who_to_the_second(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    ts = header(channel)["ts"]
    await double.click("U0BOB", channel.id, ts, "incident_acknowledge")
    await settle(tocsin)
    await double.click("U0CAROL", channel.id, ts, "incident_acknowledge")
    await settle(tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.acknowledged_by == "U0BOB" and incident.acknowledged_at is not None
    assert "already acknowledged by <@U0BOB>" in double.replies_to("U0CAROL")[-1]
    acks = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.ACKNOWLEDGED]
    assert len(acks) == 1
    assert "*Acknowledged*\n<@U0BOB>" in header_fields(channel)


async def test_the_resolve_button_opens_a_form_for_the_commander_and_refuses_others(
    double: SlackDouble, ready: Ready
) -> None:
    tocsin, channel = ready
    ts = header(channel)["ts"]
    await double.click("U0BOB", channel.id, ts, "incident_resolve")
    await settle(tocsin)
    assert "Only the Incident Commander" in double.replies_to("U0BOB")[-1]
    views_before = len(double.views)
    await double.click("U0ALICE", channel.id, ts, "incident_resolve")
    await settle(tocsin)
    assert len(double.views) == views_before + 1
    values = {"summary": "Rolled back 1.2.3", "impact": "EU card payments failed 20 min", "cause": "A bad config push"}
    await double.submit_view("U0ALICE", list(double.views)[-1], values)
    await settle(tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.status is Status.RESOLVED and incident.cause == "A bad config push"
    notice = next(m["text"] for m in reversed(channel.messages) if "is resolved*" in m["text"])
    assert "is resolved* — service is restored" in notice
    assert "*What was wrong:* A bad config push" in notice and "*What we did:* Rolled back 1.2.3" in notice
    assert "is resolved" in double.messages_in("#incidents")[-1]["text"]
    assert "Resolved" in header_fields(channel) and incident.next_update_due is None


# ----- the timeline -----------------------------------------------------------------------------
async def test_the_timeline_is_paginated_within_block_kit_limits(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    for n in range(55):
        await double.slash_command("U0BOB", channel.id, f"note step {n}")
    await settle(tocsin)
    first = (await run(double, tocsin, "U0BOB", channel, "timeline"))[0]
    last = (await run(double, tocsin, "U0BOB", channel, "timeline 3"))[0]
    assert "page 1 of 3 · 60 entries" in first and "step 0" in first
    assert first.index("step 0") < first.index("step 1") < first.index("step 19")  # in the order typed
    assert "page 3 of 3" in last and "step 54" in last and "step 30" not in last
    pages = [r for r in double.responses if "Timeline of" in (r.get("text") or "")]
    assert all(len(p["blocks"]) <= 50 for p in pages)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_pinned_and_reacted_messages_join_the_timeline_once_at_their_posted_time(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    ts = double.user_posts("U0BOB", channel.id, "db-2 CPU at 100%")
    pinned = double.pin_event("U0CAROL", channel.id, ts)
    await double.deliver_event(pinned, via=transport)
    await double.deliver_event(pinned, via=transport, retry_num=1)  # Slack's retry: same event_id
    await settle(tocsin)
    captured = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert len(captured) == 1
    entry = captured[0]
    assert entry.text == "db-2 CPU at 100%" and entry.actor == "U0BOB"
    assert entry.occurred_at == datetime.fromtimestamp(float(ts), UTC)
    assert entry.permalink and ts.replace(".", "") in entry.permalink
    # a reaction on the same message is a second reason, not a second entry
    await double.deliver_event(double.reaction_event("U0ALICE", channel.id, ts, "pushpin"), via=transport)
    await double.deliver_event(double.pin_event("U0CAROL", channel.id, ts, removed=True), via=transport)
    await settle(tocsin)
    assert [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE] == ["db-2 CPU at 100%"]
    await double.deliver_event(double.reaction_event("U0ALICE", channel.id, ts, "pushpin", removed=True), via=transport)
    await settle(tocsin)
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]


async def test_reactions_edits_and_deletions_are_reflected(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    ts = double.user_posts("U0BOB", channel.id, "rolled back to 1.2.2")
    other = double.user_posts("U0BOB", channel.id, "lunch?")
    await double.deliver_event(double.reaction_event("U0ALICE", channel.id, ts, "pushpin"))
    await double.deliver_event(double.reaction_event("U0CAROL", channel.id, ts, "pushpin"))
    await double.deliver_event(double.reaction_event("U0CAROL", channel.id, other, "thumbsup"))
    await settle(tocsin)
    messages = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]
    assert [e.text for e in messages] == ["rolled back to 1.2.2"]
    await double.deliver_event(double.edit_event(channel.id, ts, "rolled back to 1.2.1"))
    await settle(tocsin)
    assert [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE] == [
        "rolled back to 1.2.1"
    ]
    await double.deliver_event(double.delete_event(channel.id, ts))
    await settle(tocsin)
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]


async def test_messages_outside_incident_channels_are_ignored(double: SlackDouble, ready: Ready) -> None:
    tocsin, _ = ready
    general = double.channel_named("general")
    general.members.add(double.bot_user_id)
    ts = double.user_posts("U0BOB", general.id, "not an incident")
    await double.deliver_event(double.pin_event("U0BOB", general.id, ts))
    await settle(tocsin)
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.MESSAGE]


# ----- keeping Slack current -------------------------------------------------------------------
async def test_a_burst_of_fifty_updates_is_paced_and_header_edits_coalesced(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double.post_interval_per_channel = 0.02  # the double enforces the per-channel pace (429 otherwise)
    # The pacer keeps a margin over the enforced interval, as arrival times jitter (more on a loaded CI box).
    tocsin = await start_tocsin(
        sqlite_url, post_interval=0.05, header_interval=0.5, policy=Policy(broadcast_channel=None)
    )
    channel = await declare(double, tocsin)
    edits_before = len(double.calls_to("chat.update"))
    started = time.monotonic()
    for n in range(50):
        await double.slash_command("U0ALICE", channel.id, f"update progress {n}")
    await settle(tocsin)
    took = time.monotonic() - started
    assert [c for c in double.calls if c.error == "ratelimited"] == []
    posted = [m["text"] for m in channel.messages if "progress" in m["text"]]
    assert len(posted) == 50
    edits = len(double.calls_to("chat.update")) - edits_before
    # 50 posts paced 50 ms apart take about 2.5 s (longer on a loaded machine): at one header edit per
    # 500 ms (plus the first and the last), far fewer edits than updates.
    assert 1 <= edits <= min(25, took / 0.5 + 2), (edits, took)
    last = (await stored_incident(tocsin, 1)).last_update_at
    assert last is not None
    assert f"*Last update*\n<!date^{int(last.timestamp())}^" in header_fields(channel)  # the final state shows
    assert "progress 49" in (await stored_timeline(tocsin, 1))[-1].text


async def test_app_home_lists_open_incidents_and_is_refreshed_on_change(double: SlackDouble, ready: Ready) -> None:
    tocsin, channel = ready
    await double.deliver_event(double.home_opened_event("U0CAROL"))
    await settle(tocsin)
    home = str(double.home_views["U0CAROL"])
    assert "INC-1: Checkout errors" in home and "*SEV2* · 1 open" in home and f"<#{channel.id}>" in home
    await declare(double, tocsin, "declare sev1 Search down")
    home = str(double.home_views["U0CAROL"])
    assert "INC-2: Search down" in home and home.index("SEV1") < home.index("SEV2")
    await run(double, tocsin, "U0ALICE", channel, "resolve done")
    assert "INC-1" not in str(double.home_views["U0CAROL"])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_full_incident_from_declare_to_resolve(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(database_url, transport=transport)
    await double.slash_command(
        "U0ALICE", double.channel_named("general").id, "declare sev1 Payments down", via=transport
    )
    await settle(tocsin)
    channel = double.channel_named("inc-1-payments-down")
    for text in ("ic @bob", "comms @carol", "status identified", "update Card processor timing out", "sev 2 contained"):
        await run(double, tocsin, "U0ALICE", channel, text, via=transport)
    await double.click("U0CAROL", channel.id, header(channel)["ts"], "incident_acknowledge", via=transport)
    await settle(tocsin)
    await run(double, tocsin, "U0BOB", channel, "status monitoring", via=transport)
    await run(double, tocsin, "U0BOB", channel, "resolve Failed over to the backup processor", via=transport)
    incident = await stored_incident(tocsin, 1)
    assert incident.status is Status.RESOLVED and incident.severity == "SEV2"
    assert incident.commander == "U0BOB" and incident.acknowledged_by == "U0CAROL"
    kinds = [e.kind for e in await stored_timeline(tocsin, 1)]
    for kind in (
        TimelineKind.DECLARED,
        TimelineKind.ROLE_ASSIGNED,
        TimelineKind.STATUS_CHANGED,
        TimelineKind.UPDATE,
        TimelineKind.SEVERITY_CHANGED,
        TimelineKind.ACKNOWLEDGED,
        TimelineKind.RESOLVED,
    ):
        assert kind in kinds
    assert channel.topic == "SEV2 · Resolved · IC <@U0BOB>"
    assert "is resolved" in double.messages_in("#incidents")[-1]["text"]
