"""Runbooks in the incident channel, end to end: posted on declare, listed and posted on request, ticked
by people (who and when on the timeline), attached when severity rises, validated by `tocsin check`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.domain.incidents import TimelineKind
from tests.builders import declare
from tests.conftest import StartTocsin, settle, stored_timeline
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel


def runbook_messages(channel: Channel) -> list[dict[str, Any]]:
    return [m for m in channel.messages if m["text"].startswith("Runbook: ")]


def step_block(message: dict[str, Any], step: str) -> str:
    for block in message["blocks"]:
        if block["type"] == "actions" and any(o["value"] == step for o in block["elements"][0]["options"]):
            block_id: str = block["block_id"]
            return block_id
    raise AssertionError(step)


def ticked(message: dict[str, Any]) -> set[str]:
    return {
        o["value"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for o in b["elements"][0].get("initial_options", [])
    }


async def test_matching_runbooks_are_posted_on_declare_as_checklists(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin, "declare sev1 Database connection timeouts")
    titles = sorted(m["text"] for m in runbook_messages(channel))
    assert titles == [
        "Runbook: Database connection-pool exhaustion (0 of 13 steps done)",
        "Runbook: Major incident (SEV1) protocol (0 of 9 steps done)",
    ]
    notes = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.RUNBOOK]
    assert sorted(notes) == [
        "Runbook posted: Database connection-pool exhaustion",
        "Runbook posted: Major incident (SEV1) protocol",
    ]


async def test_ticking_a_step_records_who_and_when_and_updates_the_checklist(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin, "declare sev2 Certificate expired on api")
    (message,) = runbook_messages(channel)
    await double.click(
        "U0BOB", channel.id, message["ts"], "runbook_steps", value="s1", block_id=step_block(message, "s1")
    )
    await settle(tocsin)
    assert ticked(message) == {"s1"} and "(1 of 11 steps done)" in message["text"]
    entry = [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.RUNBOOK][-1]
    assert entry.actor == "U0BOB" and entry.text.startswith("Ticked “Check the served certificate and its dates")
    await double.click(
        "U0CAROL", channel.id, message["ts"], "runbook_steps", value="s1", block_id=step_block(message, "s1")
    )
    await settle(tocsin)
    assert ticked(message) == set()
    assert [e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.RUNBOOK][-1].text.startswith(
        "Unticked"
    )


async def test_two_people_ticking_the_same_step_record_it_once(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin, "declare sev2 Certificate expired on api")
    (message,) = runbook_messages(channel)
    block = step_block(message, "s2")
    # Both see the step unticked and tick it at the same moment.
    payloads = [
        double.click_payload(u, channel.id, message["ts"], "runbook_steps", value="s2", block_id=block)
        for u in ("U0BOB", "U0CAROL")
    ]
    await asyncio.gather(*(double.deliver(p, kind="interactive", via="http") for p in payloads))
    await settle(tocsin)
    ticks = [
        e for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.RUNBOOK and e.text.startswith("Ticked")
    ]
    assert len(ticks) == 1 and ticked(message) == {"s2"}


async def test_runbook_lists_matches_with_post_buttons_and_posts_by_name(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin, "declare sev3 Payments vendor outage")
    await double.slash_command("U0ALICE", channel.id, "runbook")
    await settle(tocsin)
    listing = [r for r in double.responses if "Runbooks for" in str(r.get("blocks"))][-1]
    assert "third-party-outage" in str(listing["blocks"]) and "posted" in str(listing["blocks"])
    await double.slash_command("U0ALICE", channel.id, "runbook rollback-bad-deploy")
    await settle(tocsin)
    assert any("Roll back a bad deploy" in m["text"] for m in runbook_messages(channel))
    await double.slash_command("U0ALICE", channel.id, "runbook rollback-bad-deploy")
    await settle(tocsin)
    assert "already in this channel" in double.replies_to("U0ALICE")[-1]
    await double.slash_command("U0ALICE", channel.id, "runbook nonsense")
    await settle(tocsin)
    assert "There is no runbook called “nonsense”" in double.replies_to("U0ALICE")[-1]


async def test_an_upgrade_to_sev1_attaches_the_sev1_runbook_mid_incident(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    tocsin = await start_tocsin(sqlite_url)
    channel = await declare(double, tocsin, "declare sev2 Search is slow")
    assert runbook_messages(channel) == []
    await double.slash_command("U0ALICE", channel.id, "sev 1 it is spreading")
    await settle(tocsin)
    assert [m["text"] for m in runbook_messages(channel)] == [
        "Runbook: Major incident (SEV1) protocol (0 of 9 steps done)"
    ]


async def test_tocsin_check_names_the_file_and_line_of_broken_runbooks(tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "good.md").write_text("---\ntitle: Good\n---\n- [ ] step\n")
    (folder / "bad.md").write_text("---\ntitle: Bad\nservices: [ghost]\n---\nno steps\n")
    (tmp_path / "tocsin.yml").write_text("runbooks_dir: runbooks\n")
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 2
    assert "good: Good (1 steps)" in out.decode()
    assert "tocsin: runbooks/bad.md:1: no steps" in err.decode()
    assert "tocsin: runbooks/bad.md:2: services: unknown service 'ghost'" in err.decode()
    assert "skipped" not in err.decode()  # the problems once each, not the library's log lines too


@pytest.fixture(autouse=True)
def _run_from_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    # runbooks_dir is relative to where Tocsin runs: the repository's shipped runbooks
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
