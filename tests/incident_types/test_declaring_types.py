"""Declaring a typed incident end to end, on both databases and both transports: by command (its fields
after the title, a missing required one refused with the reason) and through the form (the type first,
then views.update shows its fields, a missing required one refused beside it)."""

from __future__ import annotations

import json

import pytest

from bot.app import Tocsin
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_incident
from tests.incident_types.policies import typed_policy
from tests.slack_double import SlackDouble

TRANSPORTS = ["http", "socket"]


async def started(start_tocsin: StartTocsin, database_url: str, transport: str) -> Tocsin:
    return await start_tocsin(database_url, transport=transport, policy=typed_policy())


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_type_whose_required_field_is_missing_is_refused_at_declare_with_the_reason(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin = await started(start_tocsin, database_url, transport)
    general = double.channel_named("general").id

    await double.slash_command(
        "U0ALICE", general, "declare --type security Keys leaked ticket=https://t.example/1", via=transport
    )
    await settle(tocsin)

    assert not double.calls_to("conversations.create")
    refusals = [text for text in double.replies_to("U0ALICE") if "needs Customer" in text]
    assert refusals, double.replies_to("U0ALICE")
    assert "A security incident needs Customer to be declared" in refusals[0]
    assert "customer=" in refusals[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_declaring_by_command_with_a_type_stores_its_fields_and_shows_them_in_the_header(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    leads = double.add_channel("security-leads")
    tocsin = await started(start_tocsin, database_url, transport)
    text = 'declare --type security Keys leaked customer="Acme & Sons" exposed=unknown owner=@bob'
    channel = await declare(double, tocsin, text, via=transport)
    (told,) = leads.messages  # the type's stakeholder channel hears of it
    assert "INC-1: Keys leaked" in told["text"] and f"<#{channel.id}>" in told["text"]

    incident = await stored_incident(tocsin, 1)
    assert incident.incident_type == "security"
    assert incident.severity == "SEV2"  # the type's default severity
    assert incident.custom_fields == {"customer": "Acme & Sons", "exposed": "unknown", "owner": "U0BOB"}
    header = json.dumps(channel.messages[0]["blocks"])
    assert "*Type*\\nSecurity" in header
    assert "*Customer*\\nAcme &amp; Sons" in header
    assert "*Owner*\\n<@U0BOB>" in header
    assert "*Roles to fill*\\nTech Lead" in header  # the type's extra role, not yet held


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_declare_form_asks_the_type_then_shows_its_fields_and_checks_them(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    tocsin = await started(start_tocsin, database_url, transport)
    await double.slash_command("U0CAROL", double.channel_named("general").id, "declare", via=transport)
    await settle(tocsin)
    (view_id,) = double.views
    opened = double.views[view_id]
    assert opened["blocks"][0]["block_id"] == "incident_type" and opened["blocks"][0]["dispatch_action"]
    assert not [b for b in opened["blocks"] if b.get("block_id", "").startswith("field:")]

    ack = await double.pick_in_view("U0CAROL", view_id, "incident_type_chosen", "security", via=transport)
    await settle(tocsin)

    assert ack.status == 200
    (update,) = double.calls_to("views.update")
    assert update.args["hash"] == opened["hash"]  # an update made meanwhile would win, not be overwritten
    shown = double.views[view_id]
    field_blocks = [b["block_id"] for b in shown["blocks"] if b.get("block_id", "").startswith("field:")]
    assert field_blocks == [
        "field:customer",
        "field:ticket",
        "field:exposed",
        "field:systems",
        "field:records",
        "field:owner",
        "field:detected",
    ]  # fmt: skip  (root-cause is asked at resolve)
    severity = next(b for b in shown["blocks"] if b.get("block_id") == "severity")
    assert severity["element"]["initial_option"]["value"] == "SEV2"

    filled = {"incident_type": "security", "title": "Keys leaked", "severity": "SEV1", "field:records": "lots"}
    refused = await double.submit_view("U0CAROL", view_id, filled, via=transport)
    await settle(tocsin)
    assert refused.body["response_action"] == "errors"
    assert set(refused.body["errors"]) == {"field:customer", "field:records"}
    assert "Required for a security incident" in refused.body["errors"]["field:customer"]
    assert not double.calls_to("conversations.create")

    complete = {**filled, "field:customer": "Acme", "field:records": "1200", "field:systems": ["api", "db"]}
    complete |= {"field:owner": "U0BOB", "field:ticket": "https://t.example/7", "field:detected": "2026-02-01"}
    ack = await double.submit_view("U0CAROL", view_id, complete, via=transport)
    await settle(tocsin)
    assert ack.status == 200 and not (ack.body or {}).get("errors")
    incident = await stored_incident(tocsin, 1)
    assert (incident.incident_type, incident.severity) == ("security", "SEV1")
    assert incident.custom_fields == {
        "customer": "Acme", "ticket": "https://t.example/7", "systems": ["api", "db"], "records": 1200,
        "owner": "U0BOB", "detected": "2026-02-01",
    }  # fmt: skip


async def test_a_stale_form_loses_to_the_newer_change_instead_of_overwriting_it(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await started(start_tocsin, sqlite_url, "http")
    await double.slash_command("U0CAROL", double.channel_named("general").id, "declare")
    await settle(tocsin)
    (view_id,) = double.views
    stale = double.view_action_payload("U0CAROL", view_id, "incident_type_chosen", "internal")
    await double.pick_in_view("U0CAROL", view_id, "incident_type_chosen", "security")
    await settle(tocsin)
    await double.deliver(stale, kind="interactive", via="http")  # sent before the first update landed
    await settle(tocsin)
    assert [c.error for c in double.calls if c.method == "views.update"] == [None, "hash_conflict"]
    assert any(b.get("block_id") == "field:customer" for b in double.views[view_id]["blocks"])
