"""Links that become an incident channel's bookmarks, end to end on both databases: the dashboard or source
of the alert an incident was declared from, and the `url` fields of its type (kept current as they are set
and cleared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Tocsin
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY, declare
from tests.channel.test_channel_e2e import run, tick
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident
from tests.slack_double import SlackDouble

ALERTS = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
TOKEN = "alerts-0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"
SOURCE = "https://grafana.example.com/alerting/1afz29v7z/edit"  # the fixture's generatorURL


async def post_alert(tocsin: Tocsin, body: dict[str, Any]) -> int:
    """POST a Grafana webhook; its status."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    url = f"http://127.0.0.1:{tocsin.port}/alerts/grafana"
    async with aiohttp.ClientSession() as session, session.post(url, data=json.dumps(body), headers=headers) as got:
        return got.status


def marks(double: SlackDouble, channel_id: str) -> dict[str, str]:
    """The channel's bookmarks: title → link (a title twice would hide one: callers count them too)."""
    return {b["title"]: b["link"] for b in double.bookmarks_in(channel_id)}


async def test_an_incident_declared_from_an_alert_bookmarks_the_alerts_link(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    routes = [{"match": {"team": "payments"}, "service": "checkout", "declare_at": "SEV1"}]
    policy = Policy.model_validate({**PAGING_POLICY, "alerts": {"routes": routes}})
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy, alerts_token=TOKEN)
    body = json.loads((ALERTS / "grafana_firing.json").read_text())
    assert await post_alert(tocsin, body) == 200
    await settle(tocsin)
    incident = await stored_incident(tocsin, 1)
    assert incident.channel_id is not None
    clock.advance(minutes=1)  # the group is linked once the declare is done: the keeper looks again
    await tick(tocsin)
    assert marks(people, incident.channel_id)["Alert source"] == SOURCE
    for alert in body["alerts"]:  # the same group, firing with another link: the first one stays
        alert["generatorURL"] = "https://grafana.example.com/alerting/other/edit"
    assert await post_alert(tocsin, body) == 200
    await settle(tocsin)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.channels.alert_link(incident.id) == SOURCE
    titles = [b["title"] for b in people.bookmarks_in(incident.channel_id)]
    assert titles.count("Alert source") == 1


async def test_an_incident_without_an_alert_has_no_alert_bookmark(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    tocsin = await start_tocsin(database_url)
    channel = await declare(double, tocsin)
    assert "Alert source" not in marks(double, channel.id) and "Incident header" in marks(double, channel.id)


async def test_a_types_url_fields_are_bookmarked_and_follow_the_field(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    fields = [{"name": "ticket", "label": "Support ticket", "kind": "url"}, {"name": "customer", "kind": "text"}]
    policy = Policy.model_validate({"types": {"customer-facing": {"fields": fields}}})
    tocsin = await start_tocsin(database_url, policy=policy)
    text = "declare --type customer-facing sev2 Checkout errors ticket=https://tickets.example.com/1 customer=Acme"
    channel = await declare(double, tocsin, text)
    assert marks(double, channel.id)["Support ticket"] == "https://tickets.example.com/1"
    assert "Customer" not in marks(double, channel.id) and "Acme" not in repr(double.bookmarks_in(channel.id))
    await run(double, tocsin, "U0ALICE", channel, "field ticket https://tickets.example.com/2", "http")
    assert marks(double, channel.id)["Support ticket"] == "https://tickets.example.com/2"
    assert [b["title"] for b in double.bookmarks_in(channel.id)].count("Support ticket") == 1
    await run(double, tocsin, "U0ALICE", channel, "field ticket --clear", "http")
    assert "Support ticket" not in marks(double, channel.id)
    assert (await stored_incident(tocsin, 1)).custom_fields.get("ticket") is None
