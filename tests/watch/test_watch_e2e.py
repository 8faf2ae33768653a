"""Heartbeats and maintenance windows end to end, on both databases: the real app (two replicas sharing a
database where it matters), the strict Slack double, signed slash commands, `POST /heartbeats/<name>` and
alert webhooks, a fake clock and the job runners ticked by hand."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.app import Tocsin
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.event_models import EventRow
from storage.models import PageRow
from storage.uow import UnitOfWork
from tests.builders import PAGING_POLICY, declare
from tests.conftest import FakeClock, StartTocsin, jobs_of, settle, stored_timeline, timers_of
from tests.e2e.test_timers import pages_to, told
from tests.slack_double import SlackDouble

TOKEN = "heartbeats-7f3c9a1e5b2d4c6e8f0a1b2c3d4e5f60"
POLICY: dict[str, Any] = {
    **PAGING_POLICY,
    "heartbeats": {"nightly-backup": {"every": "10m", "grace": "2m", "service": "checkout", "severity": "SEV2"}},
}
NO_HEARTBEATS: dict[str, Any] = PAGING_POLICY


@pytest.fixture(autouse=True)
def alerts_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERTS_TOKEN in the environment too, as a deployment sets it."""
    monkeypatch.setenv("ALERTS_TOKEN", TOKEN)


async def start(start_tocsin: StartTocsin, url: str, clock: FakeClock, policy: dict[str, Any] = POLICY) -> Tocsin:
    return await start_tocsin(url, clock=clock, policy=Policy.model_validate(policy), alerts_token=TOKEN)


async def post(tocsin: Tocsin, path: str, body: object = None, *, token: str = TOKEN) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{tocsin.port}{path}", data=json.dumps(body or {}), headers=headers) as answer,
    ):
        return answer.status, await answer.json()


async def page_statuses(tocsin: Tocsin) -> list[str]:
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert uow._session is not None
        statuses = select(PageRow.status).order_by(PageRow.id)  # type: ignore[arg-type]
        return list((await uow._session.exec(statuses)).all())


async def events_of(tocsin: Tocsin, kind: str) -> int:
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert uow._session is not None
        return (await uow._session.exec(select(func.count()).where(EventRow.kind == kind))).one()


async def tick_all(*apps: Tocsin) -> None:
    """Both clocks of every replica at once (jobs, then page timers), and the work they lead to."""
    await asyncio.gather(*(jobs_of(app).tick() for app in apps))
    for app in apps:
        await settle(app)
    await asyncio.gather(*(timers_of(app).tick() for app in apps))
    for app in apps:
        await settle(app)


def broadcast(double: SlackDouble) -> list[str]:
    return [m["text"] for m in double.channel_named("incidents").messages]


async def command(double: SlackDouble, tocsin: Tocsin, text: str, user: str = "U0ALICE") -> None:
    await double.slash_command(user, double.channel_named("general").id, text)
    await settle(tocsin)


# ----- heartbeats ----------------------------------------------------------------------------------
async def test_a_missed_heartbeat_pages_once_across_two_replicas_and_the_next_beat_stands_it_down(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    first = await start(start_tocsin, database_url, clock)
    second = await start(start_tocsin, database_url, clock)
    status, body = await post(first, "/heartbeats/nightly-backup")
    assert status == 202 and body["recovered"] is False
    clock.advance(minutes=11)
    await tick_all(first, second)
    assert pages_to(people, "U0BOB") == []  # within its period and grace
    clock.advance(minutes=2)
    await tick_all(first, second)
    await tick_all(first, second)
    assert len(pages_to(people, "U0BOB")) == 1
    assert await page_statuses(first) == ["triggered"]
    assert await events_of(first, "heartbeat.missed") == 1
    status, body = await post(second, "/heartbeats/nightly-backup")
    assert status == 202 and body["recovered"] is True
    await tick_all(first, second)
    assert await page_statuses(first) == ["cancelled"]
    assert await events_of(first, "heartbeat.recovered") == 1
    clock.advance(minutes=5)
    await tick_all(first, second)
    assert await page_statuses(first) == ["cancelled"]  # its DM now says it was stood down; no other page


async def test_a_heartbeat_never_heard_from_is_missed_its_period_and_grace_after_tocsin_started(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start(start_tocsin, database_url, clock)
    clock.advance(minutes=12, seconds=1)
    await tick_all(tocsin)
    assert len(pages_to(people, "U0BOB")) == 1
    assert any("Heartbeat nightly-backup missed" in text for text in broadcast(people))


async def test_heartbeats_need_the_alerts_token_and_a_configured_name(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start(start_tocsin, sqlite_url, clock)
    assert (await post(tocsin, "/heartbeats/nightly-backup", token="wrong"))[0] == 401
    status, body = await post(tocsin, "/heartbeats/nobody-knows")
    assert status == 404 and "no heartbeat called 'nobody-knows'" in body["error"]


# ----- maintenance windows -------------------------------------------------------------------------
async def test_a_window_silences_an_alerts_page_stores_it_ends_by_itself_and_the_next_alert_pages(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start(start_tocsin, database_url, clock, NO_HEARTBEATS)
    await command(people, tocsin, "maintenance checkout 1h kernel <upgrade>")
    assert any("page nobody until" in text for text in told(people, "U0ALICE"))
    assert any("Maintenance of checkout* has begun (kernel &lt;upgrade&gt;)" in text for text in broadcast(people))
    alert = {"dedup_key": "disk-1", "title": "Disk full", "service": "checkout", "severity": "error"}
    status, answer = await post(tocsin, "/alerts/generic", alert)
    assert status == 200 and answer["action"] == "silenced"
    await tick_all(tocsin)
    assert pages_to(people, "U0BOB") == [] and await page_statuses(tocsin) == []
    assert any(
        "Disk full" in text and "silenced by checkout maintenance until" in text and "nobody is paged" in text
        for text in broadcast(people)
    )
    await command(people, tocsin, "maintenance")
    assert any("Maintenance windows (1)" in text for text in told(people, "U0ALICE"))
    clock.advance(minutes=61)
    await tick_all(tocsin)
    assert any("Maintenance of checkout* is over" in text for text in broadcast(people))
    status, answer = await post(tocsin, "/alerts/generic", {**alert, "dedup_key": "disk-2"})
    assert answer["action"] == "started"
    await tick_all(tocsin)
    assert len(pages_to(people, "U0BOB")) == 1


@pytest.mark.parametrize(("severity", "pages"), [("sev1", 1), ("sev2", 0)])
async def test_during_a_window_a_sev1_declare_still_pages_and_a_sev2_does_not(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock, severity: str, pages: int
) -> None:
    tocsin = await start(start_tocsin, database_url, clock, NO_HEARTBEATS)
    await command(people, tocsin, "maintenance checkout 2h")
    await declare(people, tocsin, f"declare {severity} Checkout errors")
    await tick_all(tocsin)
    assert len(pages_to(people, "U0BOB")) == pages
    silenced = [e.text for e in await stored_timeline(tocsin, 1) if "silenced by checkout maintenance" in e.text]
    assert len(silenced) == 1 - pages


async def test_a_window_is_ended_early_only_by_the_services_owners_or_admins(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    policy = {**NO_HEARTBEATS, "admins": ["U0CAROL"]}
    policy["services"] = {"checkout": {**NO_HEARTBEATS["services"]["checkout"], "owners": ["U0BOB"]}}
    tocsin = await start(start_tocsin, database_url, clock, policy)
    await command(people, tocsin, "maintenance checkout 2h", user="U0ALICE")
    assert any("Only checkout's owners or the admins" in text for text in told(people, "U0ALICE"))
    await command(people, tocsin, "maintenance checkout 2h deploy", user="U0BOB")
    await command(people, tocsin, "maintenance end checkout", user="U0CAROL")
    assert any("Ended the maintenance of checkout" in text for text in told(people, "U0CAROL"))
    assert any("is over, ended early by <@U0CAROL>" in text for text in broadcast(people))
    answer = (await post(tocsin, "/alerts/generic", {"dedup_key": "a", "title": "t", "service": "checkout"}))[1]
    assert answer["action"] == "started"


async def test_a_recurring_window_from_the_policy_silences_while_it_runs_and_comes_round_again(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    window = {"service": "checkout", "every": "daily", "start": "09:30", "duration": "1h", "reason": "backups"}
    tocsin = await start(start_tocsin, database_url, clock, {**NO_HEARTBEATS, "maintenance": [window]})  # 10:00 UTC
    alert = {"dedup_key": "db-1", "title": "Replica lag", "service": "checkout", "severity": "error"}
    assert (await post(tocsin, "/alerts/generic", alert))[1]["action"] == "silenced"
    clock.advance(minutes=31)
    await tick_all(tocsin)
    assert any("Maintenance of checkout* is over" in text for text in broadcast(people))
    assert (await post(tocsin, "/alerts/generic", {**alert, "dedup_key": "db-2"}))[1]["action"] == "started"
    clock.advance(hours=23)  # 09:31 the next day
    await tick_all(tocsin)
    assert any("Maintenance of checkout* has begun (backups)" in text for text in broadcast(people))
    assert (await post(tocsin, "/alerts/generic", {**alert, "dedup_key": "db-3"}))[1]["action"] == "silenced"


async def test_app_home_lists_the_windows_and_the_missed_heartbeats(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start(start_tocsin, sqlite_url, clock)
    await command(people, tocsin, "maintenance checkout 1h db <failover>")
    clock.advance(minutes=13)  # nightly-backup was never heard from
    await tick_all(tocsin)
    home = people.event_envelope({"type": "app_home_opened", "user": "U0CAROL", "channel": "D0CAROL", "tab": "home"})
    await people.deliver_event(home)
    await settle(tocsin)
    published = json.dumps([c.args for c in people.calls_to("views.publish")])
    assert "Maintenance and heartbeats" in published
    assert "db &lt;failover&gt;" in published and "*nightly-backup* missed since" in published
