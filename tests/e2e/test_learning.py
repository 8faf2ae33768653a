"""Learning from incidents end to end: postmortem drafts (canvas, file fallback, regenerate), follow-ups
with reminders, `/incident stats` with its chart, incident metrics and `tocsin postmortem`."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.domain.incidents import TimelineKind
from bot.domain.policy import Policy
from storage.migrate import upgrade_to_head
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline, timers_of
from tests.e2e.test_process import clean_env
from tests.e2e.test_process import run as run_cli
from tests.e2e.test_response import run
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel, manifest_bot_scopes

TRANSPORTS = ["http", "socket"]


def postmortem_notes(channel: Channel) -> list[str]:
    return [m["text"] for m in channel.messages if "postmortem draft for" in m["text"]]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_resolving_puts_the_draft_in_the_channel_canvas_and_regenerating_edits_it(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    channel = await declare(double, tocsin, via=transport)
    await run(double, tocsin, "U0ALICE", channel, "ic @bob", via=transport)
    await run(double, tocsin, "U0BOB", channel, "update Pool exhausted; @alice is draining", via=transport)
    await run(double, tocsin, "U0BOB", channel, "resolve Rolled back the config", via=transport)

    (canvas_id,) = double.canvases
    canvas = double.canvases[canvas_id]
    assert canvas["channel"] == channel.id and canvas["title"] == "INC-1 postmortem (draft)"
    markdown = canvas["markdown"]
    assert markdown.startswith("# INC-1: Checkout errors — postmortem (draft)")
    assert "Rolled back the config" in markdown
    assert "U0ALICE" not in markdown.split("## Timeline")[1].split("## Root cause")[0]
    assert "Pool exhausted; a responder is draining" in markdown  # the update as sent, people replaced
    (note,) = postmortem_notes(channel)
    assert "is ready* in this channel's canvas" in note
    assert any(b.get("type") == "actions" for b in channel.messages[-1]["blocks"])

    replies = await run(double, tocsin, "U0CAROL", channel, "postmortem", via=transport)
    assert replies[-1] == ":memo: Postmortem draft version 2 is in the channel canvas."
    assert list(double.canvases) == [canvas_id]  # edited in place, never a second canvas
    assert len(double.calls_to("canvases.edit")) == 1
    assert "was regenerated* (version 2)" in postmortem_notes(channel)[-1]
    # Adding a follow-up keeps the canvas current, quietly (no new version, no message).
    notes_before = len(postmortem_notes(channel))
    await run(
        double, tocsin, "U0BOB", channel, "followup Alert on pool saturation @carol due 2026-12-30", via=transport
    )
    assert "| Alert on pool saturation | ![](@U0CAROL) | 2026-12-30 | open |" in double.canvases[canvas_id]["markdown"]
    assert len(postmortem_notes(channel)) == notes_before
    kinds = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.POSTMORTEM]
    assert kinds == [
        "Postmortem draft posted as the channel canvas",
        "Postmortem draft regenerated (version 2) as the channel canvas",
    ]


@pytest.mark.parametrize("refusal", ["free workspace", "missing scope"])
async def test_where_canvases_are_refused_the_draft_is_a_markdown_file_and_a_new_version_supersedes_it(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, refusal: str
) -> None:
    if refusal == "free workspace":
        double.canvas_tier = False
    else:
        double.scopes = manifest_bot_scopes() - {"canvases:write"}
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin)
    await run(double, tocsin, "U0ALICE", channel, "resolve Restarted the pool")

    assert double.canvases == {}
    (first,) = double.files.values()
    assert first["name"] == "INC-1-postmortem-v1.md" and first["channels"] == [channel.id]
    assert first["content"].decode().startswith("# INC-1: Checkout errors — postmortem (draft)")
    # files v2 really ran: a URL was asked for, the bytes were uploaded to it, then the upload completed.
    assert [c.method for c in double.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert first["permalink"] in postmortem_notes(channel)[0]

    await run(double, tocsin, "U0ALICE", channel, "postmortem")
    second = list(double.files.values())[-1]
    assert second["name"] == "INC-1-postmortem-v2.md"
    assert "it supersedes version 1" in postmortem_notes(channel)[-1]
    # Tried once, refused; the second version went straight to a file.
    assert [c.error for c in double.calls if c.method == "conversations.canvases.create"] == [
        "team_tier_cannot_create_channel_canvases" if refusal == "free workspace" else "missing_scope"
    ]


async def test_a_channel_canvas_made_by_hand_receives_the_draft(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin)
    double.canvases["F0HAND"] = {"channel": channel.id, "title": "notes", "markdown": "scratch"}
    channel.canvas_id = "F0HAND"
    await run(double, tocsin, "U0ALICE", channel, "resolve Fixed")
    assert list(double.canvases) == ["F0HAND"]
    assert double.canvases["F0HAND"]["markdown"].startswith("# INC-1: Checkout errors")
    assert double.files == {}


async def test_the_cli_prints_the_draft_from_the_database(
    double: SlackDouble, start_tocsin: StartTocsin, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    tocsin = await start_tocsin(url)
    channel = await declare(double, tocsin)
    await run(double, tocsin, "U0ALICE", channel, "resolve Rolled back")
    env = clean_env(PYTHONPATH=os.getcwd(), DATABASE_URL=url)
    code, out, err = await run_cli("postmortem", "INC-1", env=env, cwd=tmp_path)
    assert (code, err) == (0, "")
    assert out.startswith("# INC-1: Checkout errors — postmortem (draft)\n")
    assert "## Action items" in out and "Rolled back" in out
    code, _, err = await run_cli("postmortem", "INC-9", env=env, cwd=tmp_path)
    assert code == 2 and err.startswith("tocsin: there is no INC-9 in sqlite:///")
    code, _, err = await run_cli("postmortem", "yesterday", env=env, cwd=tmp_path)
    assert code == 2 and "isn't an incident reference" in err


# ----- follow-ups ----------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_follow_ups_are_added_listed_and_closed_with_done(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport, clock=clock)
    channel = await declare(double, tocsin, via=transport)
    await run(
        double, tocsin, "U0ALICE", channel, "followup Alert on @channel pool use @bob due 2026-12-01", via=transport
    )
    added = [m["text"] for m in channel.messages if "Follow-up added" in m["text"]]
    # Stored as the plain text typed: "@channel" is words, never a broadcast.
    assert added == [":clipboard: Follow-up added: Alert on @channel pool use — <@U0BOB> · due 2026-12-01 · INC-1"]
    await run(double, tocsin, "U0ALICE", channel, "followup Write the rollback runbook", via=transport)
    (listing,) = (await run(double, tocsin, "U0BOB", channel, "followups", via=transport))[-1:]
    assert "Follow-ups of INC-1" in listing and "Write the rollback runbook — _unassigned_" in listing
    mine = (await run(double, tocsin, "U0BOB", double.channel_named("general"), "followups mine", via=transport))[-1]
    assert "Your open follow-ups" in mine and "Alert on" in mine and "rollback" not in mine

    # The ephemeral list as Bob sees it; its first Done button is the pool alert's.
    seen = {**[r for r in double.responses if r["user_id"] == "U0BOB" and "Follow-ups of" in r["text"]][-1]}
    seen["ts"] = "1700000000.999999"
    done = next(b["accessory"] for b in seen["blocks"] if b.get("accessory", {}).get("action_id") == "follow_up_done")
    await double.click("U0BOB", channel.id, seen["ts"], "follow_up_done", block_id=None, via=transport, message=seen)
    await settle(tocsin)
    assert done["value"] == "1"
    assert double.replies_to("U0BOB")[-1].startswith(":white_check_mark: Done: Alert on")
    await double.click("U0CAROL", channel.id, seen["ts"], "follow_up_done", via=transport, message=seen)
    await settle(tocsin)
    assert double.replies_to("U0CAROL")[-1] == "That follow-up was already marked done by <@U0BOB>."
    timeline = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.FOLLOW_UP]
    assert timeline[-1] == "Follow-up done: Alert on @channel pool use"
    open_now = (await run(double, tocsin, "U0BOB", double.channel_named("general"), "followups open", via=transport))[
        -1
    ]
    assert open_now.startswith("Open follow-ups\nWrite the rollback runbook") and "Alert on" not in open_now


async def test_a_due_date_in_the_past_is_refused_and_nothing_is_stored(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channel = await declare(double, tocsin)
    replies = await run(double, tocsin, "U0ALICE", channel, "followup Fix it due 2026-11-01")
    assert replies[-1] == ":warning: The due date 2026-11-01 is in the past."
    assert not [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.FOLLOW_UP]


async def test_the_add_follow_up_button_opens_a_form_that_adds_one(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(sqlite_url, clock=clock)
    channel = await declare(double, tocsin)
    await run(double, tocsin, "U0ALICE", channel, "resolve Fixed")
    summary = next(m for m in channel.messages if "postmortem draft for" in m["text"])
    await double.click("U0ALICE", channel.id, summary["ts"], "follow_up_add")
    await settle(tocsin)
    view_id = list(double.views)[-1]
    await double.submit_view(
        "U0ALICE",
        view_id,
        {"follow_up_text": "Add a canary", "follow_up_owner": "U0CAROL", "follow_up_due": "2026-11-30"},
    )
    await settle(tocsin)
    assert "Follow-up added: Add a canary — <@U0CAROL> · due 2026-11-30 · INC-1" in channel.messages[-1]["text"]
    # A due date in the past is refused in the form itself.
    await double.click("U0ALICE", channel.id, summary["ts"], "follow_up_add")
    await settle(tocsin)
    ack = await double.submit_view(
        "U0ALICE", list(double.views)[-1], {"follow_up_text": "Old", "follow_up_due": "2026-11-01"}
    )
    assert ack.body["response_action"] == "errors" and "follow_up_due" in ack.body["errors"]


async def test_owners_are_reminded_on_the_due_date_then_weekly_until_done(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    policy = Policy.model_validate({"timezone": "Europe/London"})
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy)
    channel = await declare(double, tocsin)
    await run(double, tocsin, "U0ALICE", channel, "followup Add a pool alert @bob due 2026-11-25")

    def reminders() -> list[dict[str, Any]]:
        return [m for m in double.dm_messages("U0BOB") if "follow-up you own" in m["text"]]

    clock.now = datetime(2026, 11, 25, 8, 59, tzinfo=UTC)  # 08:59 in London: not yet
    await timers_of(tocsin).tick()
    assert reminders() == []
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    await timers_of(tocsin).tick()
    await timers_of(tocsin).tick()
    assert len(reminders()) == 1  # once
    assert "*due today*" in reminders()[-1]["text"]
    clock.now = datetime(2026, 12, 2, 9, 0, 5, tzinfo=UTC)
    await timers_of(tocsin).tick()
    assert "*overdue by 7 days*" in reminders()[-1]["text"]
    # Down for three weeks: one late reminder, not three.
    clock.now = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    await timers_of(tocsin).tick()
    await timers_of(tocsin).tick()
    assert len(reminders()) == 3
    im = next(c for c in double.channels.values() if c.is_im and "U0BOB" in c.members)
    await double.click("U0BOB", im.id, reminders()[-1]["ts"], "follow_up_done")
    await settle(tocsin)
    clock.now = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    await timers_of(tocsin).tick()
    assert len(reminders()) == 3  # done: no more reminders


async def test_two_schedulers_remind_each_owner_once(
    double: SlackDouble, start_tocsin: StartTocsin, postgres_url: str, clock: FakeClock
) -> None:
    first = await start_tocsin(postgres_url, clock=clock)
    second = await start_tocsin(postgres_url, clock=clock)  # Slack delivers requests to this one
    channel = await declare(double, second)
    owners = ["U0ALICE", "U0BOB", "U0CAROL"]
    for n in range(30):
        name = ["alice", "bob", "carol"][n % 3]
        await run(double, second, "U0ALICE", channel, f"followup Item {n} @{name} due 2026-11-24")
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    await asyncio.gather(
        timers_of(first).tick(), timers_of(second).tick(), timers_of(first).tick(), timers_of(second).tick()
    )
    sent = [m for user in owners for m in double.dm_messages(user) if "follow-up you own" in m["text"]]
    assert len(sent) == 30
    assert len({m["text"] for m in sent}) == 30


# ----- stats and metrics ----------------------------------------------------------------------------
async def test_stats_show_figures_privately_with_the_chart_and_share_them_on_request(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(database_url, clock=clock)
    channel = await declare(double, tocsin, "declare sev1 Checkout down")
    clock.advance(minutes=3)
    await double.click("U0BOB", channel.id, channel.messages[0]["ts"], "incident_acknowledge")
    await settle(tocsin)
    clock.advance(minutes=57)
    await run(double, tocsin, "U0ALICE", channel, "resolve Fixed")
    general = double.channel_named("general")

    before = len(double.responses)
    await double.slash_command("U0ALICE", general.id, "stats")
    await settle(tocsin)
    (reply,) = double.responses[before:]
    assert "*SEV1* · 1 incident" in reply["text"]
    assert "MTTA 3m / 3m (1 acknowledged)" in reply["text"] and "MTTR 1h / 1h (1 resolved)" in reply["text"]
    (image,) = [b for b in reply["blocks"] if b["type"] == "image"]
    chart = double.files[image["slack_file"]["id"]]
    assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n") and chart["channels"] == []

    await double.slash_command("U0ALICE", general.id, "stats all --share")
    await settle(tocsin)
    shared = [m for m in general.messages if "Incident stats · all time" in m["text"]]
    assert len(shared) == 1
    (image,) = [b for b in shared[0]["blocks"] if b["type"] == "image"]
    assert double.files[image["slack_file"]["id"]]["name"] == "mttr-by-week.png"

    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{tocsin.port}/metrics") as response:
        metrics = await response.text()
    assert 'tocsin_time_to_acknowledge_seconds_count{severity="SEV1"} 1.0' in metrics
    assert 'tocsin_time_to_resolve_seconds_sum{severity="SEV1"} 3600.0' in metrics
    assert 'tocsin_open_incidents{severity="SEV1"} 0.0' in metrics
    assert 'tocsin_slack_api_calls_total{method="files.completeUploadExternal"}' in metrics


async def test_the_open_incidents_gauge_counts_what_the_database_holds(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    await declare(double, tocsin, "declare sev2 One")
    await declare(double, tocsin, "declare sev2 Two")
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{tocsin.port}/metrics") as response:
        metrics = await response.text()
    assert 'tocsin_open_incidents{severity="SEV2"} 2.0' in metrics
    assert 'tocsin_open_incidents{severity="SEV4"} 0.0' in metrics
    assert (await stored_incident(tocsin, 2)).severity == "SEV2"


async def test_migrations_include_follow_ups_and_postmortems(sqlite_url: str) -> None:
    from sqlalchemy import inspect

    from storage.db import create_engine

    engine = create_engine(sqlite_url)
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert {"follow_ups", "postmortems"} <= tables


async def test_marking_the_postmortem_done_closes_the_incident_for_those_who_may_resolve(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin)
    early = await run(double, tocsin, "U0ALICE", channel, "postmortem done")
    assert "the postmortem is marked done once the incident is resolved" in early[-1]
    await run(double, tocsin, "U0ALICE", channel, "resolve Fixed")
    summary = next(m for m in channel.messages if "postmortem draft for" in m["text"])
    await double.click("U0CAROL", channel.id, summary["ts"], "postmortem_done")  # not IC, comms or admin
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).status.value == "resolved"
    assert double.replies_to("U0CAROL")
    await double.click("U0ALICE", channel.id, summary["ts"], "postmortem_done")
    await settle(tocsin)
    closed = await stored_incident(tocsin, 1)
    assert closed.status.value == "closed" and closed.status.label == "Postmortem done"
    assert any("marked the postmortem of INC-1 done" in m["text"] for m in channel.messages)
    timeline = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.STATUS_CHANGED]
    assert timeline[-1] == "Resolved → Postmortem done"
    again = await run(double, tocsin, "U0ALICE", channel, "postmortem done")
    assert "is postmortem done" in again[-1]
