"""The `tocsin` command as an operator runs it: exit codes, check output, migrate, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from storage.migrate import head_revision
from tests.slack_double import SlackDouble

TOCSIN = [sys.executable, "-m", "bot"]


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "TOCSIN_", "PORT"))}
    env.update(values)
    return env


async def run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *TOCSIN, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_a_missing_setting_is_one_line_exit_2_no_traceback(tmp_path: Path) -> None:
    code, out, err = await run("check", "--settings", env=clean_env(PYTHONPATH=os.getcwd()), cwd=tmp_path)
    assert code == 2
    assert err.splitlines()[0] == "tocsin: SLACK_BOT_TOKEN is not set (see .env.example)"
    assert "Traceback" not in out + err


async def test_check_prints_the_effective_settings_and_policy_without_secrets(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=os.getcwd(), SLACK_BOT_TOKEN="xoxb-very-secret", SLACK_SIGNING_SECRET="shh-secret")
    (tmp_path / "tocsin.yml").write_text("channel_prefix: incident\nfirst_update_within: 10m\n")
    code, out, _ = await run("check", env=env, cwd=tmp_path)
    assert code == 0
    assert "SLACK_BOT_TOKEN: set" in out and "TOCSIN_CONFIG: tocsin.yml" in out
    assert "channel_prefix: incident" in out and "first_update_within: 10m" in out
    assert "very-secret" not in out and "shh-secret" not in out


async def test_check_fails_on_a_bad_policy_naming_the_key(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=os.getcwd(), SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    (tmp_path / "tocsin.yml").write_text("severities:\n  - name: SEV1\n    colour_name: red\n")
    code, _, err = await run("check", env=env, cwd=tmp_path)
    assert code == 2
    assert err.splitlines() == [
        "tocsin: tocsin.yml:3: severities[0].colour_name: unknown key",
        "tocsin: tocsin.yml: default_severity: 'SEV3' is not one of SEV1",
        "tocsin: 2 problem(s) found",
    ]


async def test_migrate_needs_only_the_database(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=os.getcwd(), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    code, out, _ = await run("migrate", env=env, cwd=tmp_path)
    assert (code, out) == (0, f"database at revision {head_revision()}\n")


async def test_a_bad_token_stops_start_up_with_one_line(double: SlackDouble, tmp_path: Path) -> None:
    env = clean_env(
        PYTHONPATH=os.getcwd(),
        SLACK_BOT_TOKEN="xoxb-wrong",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=double.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        PORT="0",
    )
    code, _, err = await run("run", env=env, cwd=tmp_path)
    assert code == 2
    assert err.strip().splitlines()[-1] == "tocsin: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)"


async def test_sigterm_finishes_the_declare_in_flight_then_exits_0(double: SlackDouble, tmp_path: Path) -> None:
    env = clean_env(
        PYTHONPATH=os.getcwd(),
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_SIGNING_SECRET=double.signing_secret,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'tocsin.db'}",
        HOST="127.0.0.1",
        PORT="0",
    )
    process = await asyncio.create_subprocess_exec(
        *TOCSIN, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    port = None
    while port is None:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "tocsin exited before it was up"
        if match := re.search(r"Tocsin is up on 127\.0\.0\.1:(\d+)", line):
            port = int(match.group(1))
    double.app_url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
        assert response.status == 200

    double.latency = 0.3  # each Slack call now takes 300 ms: the declare is still running after the ack
    ack = await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev1 Mid-flight")
    assert ack.status == 200
    process.send_signal(signal.SIGTERM)
    stderr_rest = await asyncio.wait_for(process.stderr.read(), 30)
    assert await process.wait() == 0, stderr_rest.decode()
    channel = double.find_channel_named("inc-1-mid-flight")
    assert channel is not None and channel.messages and channel.pins, "the declare finished before exit"


async def test_check_names_the_file_and_line_of_a_broken_postmortem_template(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=os.getcwd(), SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    (tmp_path / "pm.md.j2").write_text("# {{ reference }}\n\n{% if %}\n")
    (tmp_path / "tocsin.yml").write_text("postmortem_template: pm.md.j2\n")
    code, _, err = await run("check", env=env, cwd=tmp_path)
    assert code == 2
    assert err.startswith("tocsin: tocsin.yml:1: postmortem_template: pm.md.j2:3: ")
    (tmp_path / "pm.md.j2").write_text("# {{ reference }}\n")
    code, out, _ = await run("check", env=env, cwd=tmp_path)
    assert code == 0 and "# postmortem template\npm.md.j2" in out
