"""A typed incident's fields once it runs, end to end on both databases and both transports:
`/incident field`, the header and summary showing the fields and the call, a private incident's call
never leaving its channel, resolving refused while a field required to resolve is empty, and stats by type."""

from __future__ import annotations

import json

import pytest

from bot.app import Tocsin
from bot.domain.incidents import Status
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_incident
from tests.incident_types.policies import typed_policy
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

TRANSPORTS = ["http", "socket"]
BRIDGE = "https://meet.example/inc-1-zx9q"
SECURITY = "declare --type security sev2 Keys leaked customer=Acme"


async def typed_incident(
    double: SlackDouble,
    start_tocsin: StartTocsin,
    database_url: str,
    transport: str,
    text: str = SECURITY,
    policy: Policy | None = None,
) -> tuple[Tocsin, Channel]:
    tocsin = await start_tocsin(database_url, transport=transport, policy=policy or typed_policy())
    return tocsin, await declare(double, tocsin, text, via=transport)


async def with_bridge(tocsin: Tocsin, number: int = 1) -> None:
    """The call set as the channel helper sets it (the column), and the header brought up to date."""
    incident = await stored_incident(tocsin, number)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        await uow.incidents.update(incident.id, bridge_url=BRIDGE)
        await uow.commit()
    await tocsin.deps.response.header.refresh(incident.id)


async def say(
    double: SlackDouble, tocsin: Tocsin, channel: Channel, text: str, via: str, user: str = "U0ALICE"
) -> None:
    await double.slash_command(user, channel.id, text, via=via)
    await settle(tocsin)


def header_of(channel: Channel) -> str:
    return json.dumps(channel.messages[0]["blocks"])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_setting_a_field_is_checked_recorded_and_shown(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin, channel = await typed_incident(double, start_tocsin, database_url, transport)

    await say(double, tocsin, channel, "field exposed maybe", transport)
    assert any("Data exposed is one of: yes, no, unknown" in text for text in double.replies_to("U0ALICE"))
    await say(double, tocsin, channel, "field exposed yes", transport)
    await say(double, tocsin, channel, "field ticket https://t.example/9", transport)

    incident = await stored_incident(tocsin, 1)
    assert incident.custom_fields == {"customer": "Acme", "exposed": "yes", "ticket": "https://t.example/9"}
    assert "*Data exposed*\\nyes" in header_of(channel)
    assert "<https://t.example/9|https://t.example/9>" in header_of(channel)
    notices = [m["text"] for m in channel.messages if m["text"].startswith(":pencil2:")]
    assert notices == [
        ":pencil2: <@U0ALICE> set *Data exposed* to yes.",
        ":pencil2: <@U0ALICE> set *Ticket* to <https://t.example/9|https://t.example/9>.",
    ]
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        timeline = [e.text for e in await uow.incidents.timeline(incident.id)]
    assert "Data exposed: yes" in timeline and "Ticket: https://t.example/9" in timeline


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_incident_without_a_type_has_no_fields_to_set(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin, channel = await typed_incident(double, start_tocsin, database_url, transport, "declare sev3 Slow pages")
    await say(double, tocsin, channel, "field customer Acme", transport)
    assert any("INC-1 has no incident type" in text for text in double.replies_to("U0ALICE"))
    assert (await stored_incident(tocsin, 1)).custom_fields == {}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_header_and_the_summary_show_the_type_its_fields_and_the_call(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin, channel = await typed_incident(double, start_tocsin, database_url, transport)
    await with_bridge(tocsin)

    header = header_of(channel)
    assert "*Type*\\nSecurity" in header and "*Customer*\\nAcme" in header
    assert f"<{BRIDGE}|Join the call>" in header
    await say(double, tocsin, channel, "summary", transport)
    (summary,) = [t for t in double.replies_to("U0ALICE") if t.startswith(":information_source:")]
    assert "*Type:* Security · *Customer:* Acme · *Ticket:* _not set_" in summary
    assert f"*Call:* <{BRIDGE}|Join the call>" in summary


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_private_incidents_call_never_leaves_its_channel(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    text = "declare --private --type security sev1 Keys leaked customer=Acme"
    leads = double.add_channel("security-leads")  # the type's stakeholders: not told of a private one
    noticed = typed_policy(private_incidents={"notice": "A private incident was declared."})
    tocsin, channel = await typed_incident(double, start_tocsin, database_url, transport, text, noticed)
    await with_bridge(tocsin)
    for said in ("update Rotating the keys", "summary --share", "field root-cause A key in a public repo"):
        await say(double, tocsin, channel, said, transport)
    await say(double, tocsin, channel, "resolve Keys rotated", transport)

    assert (await stored_incident(tocsin, 1)).status is Status.RESOLVED
    assert BRIDGE in header_of(channel)
    elsewhere = [json.dumps(m) for c in double.channels.values() if c.id != channel.id for m in c.messages]
    assert elsewhere and not [m for m in elsewhere if BRIDGE in m]
    assert not leads.messages
    assert not [r for r in double.responses if r["channel_id"] != channel.id and BRIDGE in json.dumps(r)]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_resolving_is_refused_while_a_field_required_to_resolve_is_empty(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin, channel = await typed_incident(double, start_tocsin, database_url, transport)

    await say(double, tocsin, channel, "resolve Keys rotated", transport)
    assert (await stored_incident(tocsin, 1)).status is Status.INVESTIGATING
    reason = "Fill in Root cause before resolving this security incident, e.g. `/incident field root-cause"
    assert any(reason in text for text in double.replies_to("U0ALICE")), double.replies_to("U0ALICE")

    await say(double, tocsin, channel, "resolve", transport)  # the form asks for it
    view_id = next(v for v, view in double.views.items() if view["callback_id"] == "resolve_incident")
    assert "field:root-cause" in {b.get("block_id") for b in double.views[view_id]["blocks"]}
    refused = await double.submit_view("U0ALICE", view_id, {"summary": "Keys rotated"}, via=transport)
    assert refused.body["errors"] == {"field:root-cause": "Required for a security incident."}
    values = {"summary": "Keys rotated", "field:root-cause": "A key in a public repo"}
    await double.submit_view("U0ALICE", view_id, values, via=transport)
    await settle(tocsin)

    resolved = await stored_incident(tocsin, 1)
    assert resolved.status is Status.RESOLVED
    assert resolved.custom_fields["root-cause"] == "A key in a public repo"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_stats_of_one_type(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin, channel = await typed_incident(double, start_tocsin, database_url, transport)
    await declare(double, tocsin, "declare sev3 Slow pages", via=transport)
    await declare(double, tocsin, "declare --type internal sev4 Build broken", via=transport)

    await say(double, tocsin, channel, "stats all type=security", transport)
    (reply,) = [t for t in double.replies_to("U0ALICE") if t.startswith("*Incident stats")]
    assert "security incidents only" in reply and "· 1 incident" in reply
