"""A page's buttons answer for whoever it paged from the instant the DM exists: before the step that sent
it is recorded, and after a crash between sending it and recording it (who a step pages is written
ahead). And a page waits out a Slack outage instead of escalating past people it never reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import Tocsin
from bot.domain.policy import Policy
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, eventually, settle, stored_incident, stored_timeline, timers_of
from tests.e2e.test_resilience import start_process
from tests.slack_double import SlackDouble

FAST_POLICY: dict[str, Any] = {
    "escalation_policies": {
        "payments": {
            "tiers": [{"notify": ["user:U0BOB"], "after": "5m"}, {"notify": ["user:U0CAROL"], "after": "5m"}],
        }
    },
    "services": {"checkout": {"keywords": ["checkout"], "escalation_policy": "payments", "page_on_declare": ["SEV1"]}},
}


def page_dms(double: SlackDouble, user: str) -> list[dict[str, Any]]:
    return [m for m in double.dm_messages(user) if "being paged" in m["text"]]


def told(double: SlackDouble, user: str) -> list[str]:
    return [r["text"] for r in double.responses if r["user_id"] == user and r.get("text")]


def dm_channel_of(double: SlackDouble, user: str) -> str:
    return next(c.id for c in double.channels.values() if c.is_im and user in c.members)


def paging_notice(args: dict[str, Any]) -> bool:
    """The incident channel's ":pager: Paging …" line: sent after the DMs, before the step is recorded."""
    return ":pager: Paging" in str(args.get("text", ""))


async def declare_and_catch_the_dm(double: SlackDouble, via: str = "http") -> dict[str, Any]:
    """Declare a SEV1 that pages bob, and stop the step between bob's DM and its record."""
    double.hang_next("chat.postMessage", where=paging_notice)
    general = double.channel_named("general").id
    await double.slash_command("U0ALICE", general, "declare sev1 Checkout is failing", via=via)
    await eventually(lambda: page_dms(double, "U0BOB") and double.hung_calls, within=20, what="bob's page DM")
    return page_dms(double, "U0BOB")[0]


async def click_when_idle(double: SlackDouble, tocsin: Tocsin, user: str, action: str, via: str) -> None:
    (dm,) = page_dms(double, user)
    await double.click(user, dm_channel_of(double, user), dm["ts"], action, via=via)
    assert await tocsin.deps.background.wait_idle(20), "the click was not answered"


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_acknowledge_clicked_the_instant_the_dm_arrives_is_taken(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, transport=transport, policy=Policy.model_validate(FAST_POLICY))
    await declare_and_catch_the_dm(double, transport)
    await click_when_idle(double, tocsin, "U0BOB", "page_acknowledge", transport)
    assert not any("someone else" in t for t in told(double, "U0BOB"))
    incident = await stored_incident(tocsin, 1)
    assert incident.acknowledged_by == "U0BOB"
    assert page_dms(double, "U0CAROL") == []  # acknowledged: the page never escalated to carol


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_decline_clicked_the_instant_the_dm_arrives_passes_the_page_on(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, transport=transport, policy=Policy.model_validate(FAST_POLICY))
    await declare_and_catch_the_dm(double, transport)
    await click_when_idle(double, tocsin, "U0BOB", "page_decline", transport)
    assert not any("someone else" in t for t in told(double, "U0BOB"))
    assert told(double, "U0BOB")[-1].startswith("Declined: the next step")
    assert any(e.text == "Page declined" for e in await stored_timeline(tocsin, 1))


async def test_someone_the_page_never_reached_is_still_refused(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, policy=Policy.model_validate(FAST_POLICY))
    dm = await declare_and_catch_the_dm(double)
    # carol replays bob's button in a crafted request: the write-ahead names bob only.
    await double.click("U0CAROL", dm_channel_of(double, "U0BOB"), dm["ts"], "page_acknowledge")
    assert await tocsin.deps.background.wait_idle(20)
    refusal = "That page went to someone else; only the people it paged can answer it."
    assert told(double, "U0CAROL")[-1].endswith(refusal)
    assert (await stored_incident(tocsin, 1)).acknowledged_by is None


async def test_acknowledge_after_a_kill_between_sending_the_dm_and_recording_it(
    people: SlackDouble, start_tocsin: StartTocsin, tmp_path: Path
) -> None:
    double = people
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    (tmp_path / "tocsin.yml").write_text(yaml.safe_dump(FAST_POLICY))
    process = await start_process(double, url, tmp_path, TOCSIN_CONFIG=str(tmp_path / "tocsin.yml"))
    try:
        await declare_and_catch_the_dm(double)
    finally:
        process.kill()  # SIGKILL between bob's DM and the step's record
        await process.wait()

    restarted = await start_tocsin(url, policy=Policy.model_validate(FAST_POLICY))
    await click_when_idle(double, restarted, "U0BOB", "page_acknowledge", "http")
    assert not any("someone else" in t for t in told(double, "U0BOB"))
    assert (await stored_incident(restarted, 1)).acknowledged_by == "U0BOB"
    await timers_of(restarted).tick()
    await settle(restarted)
    assert len(page_dms(double, "U0BOB")) == 1 and page_dms(double, "U0CAROL") == []


async def test_a_page_waits_out_a_slack_outage_and_is_sent_once_slack_answers(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(FAST_POLICY))
    channel = await declare(double, tocsin, "declare sev2 Checkout is slow")  # SEV2: nobody paged yet
    double.fail_next("chat.postMessage", "server_error", times=10_000)  # Slack answers 500 to every post
    await double.slash_command("U0ALICE", channel.id, "page @bob")
    await settle(tocsin)
    tried = [c for c in double.calls if c.method == "chat.postMessage" and c.args.get("channel") == "U0BOB"]
    assert tried and page_dms(double, "U0BOB") == []
    clock.advance(minutes=6)  # past the first tier's 5 minutes: still nobody reached, so no escalation
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert page_dms(double, "U0BOB") == [] and page_dms(double, "U0CAROL") == []
    double._forced_errors.pop("chat.postMessage")  # Slack is back
    clock.advance(seconds=6)
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert len(page_dms(double, "U0BOB")) == 1  # late, once, and the escalation did not skip him
    assert page_dms(double, "U0CAROL") == []
