"""Start-up as an operator meets it: a database that cannot be reached is waited for (one line per
attempt, not ready meanwhile), a Slack that cannot be reached too (one line naming the URL, ready
meanwhile: readiness is the database's); a signal still stops it; what can never work (a refused token, a
port in use) is one line and exit 2; JSON logs for pipelines."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.runtime.version import VERSION
from tests.conftest import POSTGRES_URL, StartTocsin
from tests.e2e.test_process import clean_env, run
from tests.slack_double import SlackDouble

TOCSIN = [sys.executable, "-m", "bot"]


def closed_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def env_for(tmp_path: Path, **values: str) -> dict[str, str]:
    defaults = {
        "PYTHONPATH": os.getcwd(),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tocsin.db'}",
        "HOST": "127.0.0.1",
        "PORT": "0",
    }
    return clean_env(**(defaults | values))


async def started(env: dict[str, str], cwd: Path) -> tuple[asyncio.subprocess.Process, int, list[str]]:
    """Start `tocsin run` and read its log until it serves HTTP; the process, its port, the lines so far."""
    process = await asyncio.create_subprocess_exec(*TOCSIN, "run", env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "tocsin exited: " + "".join(lines)
        lines.append(line)
        if match := re.search(r"serving HTTP on 127\.0\.0\.1:(\d+)", line):
            return process, int(match.group(1)), lines


async def read_lines(process: asyncio.subprocess.Process, lines: list[str], until: str, within: float = 30) -> None:
    assert process.stderr is not None
    async with asyncio.timeout(within):
        while not any(until in line for line in lines):
            line = (await process.stderr.readline()).decode()
            assert line, "tocsin exited: " + "".join(lines)
            lines.append(line)


async def get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.json()


async def get_text(port: int, path: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return await response.text()


async def stop(process: asyncio.subprocess.Process, lines: list[str]) -> int:
    process.send_signal(signal.SIGTERM)
    assert process.stderr is not None
    rest = await asyncio.wait_for(process.stderr.read(), 25)
    lines.extend(rest.decode().splitlines(keepends=True))
    return await asyncio.wait_for(process.wait(), 5)


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_an_unreachable_slack_is_one_line_naming_the_url_ready_meanwhile_and_a_signal_still_stops_it(
    tmp_path: Path, transport: str
) -> None:
    # Socket Mode users have no signing secret: start-up must not need one.
    extra = {"SLACK_APP_TOKEN": "xapp-test-token", "SLACK_SIGNING_SECRET": ""} if transport == "socket" else {}
    url = f"http://127.0.0.1:{closed_port()}/api/"
    env = env_for(tmp_path, SLACK_API_URL=url, **extra)
    process, port, lines = await started(env, tmp_path)
    assert f"Tocsin {VERSION} serving HTTP" in lines[-1]  # the version at once, not when Slack answers
    await read_lines(process, lines, "is unreachable")
    status, report = await get(port, "/readyz")
    # Ready: the database answers, so alerts are taken; Slack's state is the detail.
    assert status == 200 and report["database"] == "ok"
    assert report["slack"] == "unreachable" and report["slack_reason"].startswith("cannot connect")
    assert (await get(port, "/livez"))[0] == 200
    method = "apps.connections.open" if transport == "socket" else "auth.test"
    tried = re.compile(rf'tocsin_slack_api_errors_total{{error="connection",method="{method}"}} ([0-9.]+)')

    async def tried_twice() -> bool:
        found = tried.search(await get_text(port, "/metrics"))
        return bool(found) and float(found.group(1) if found else 0) >= 2

    deadline = asyncio.get_running_loop().time() + 90
    while not await tried_twice():  # retried (with backoff) and counted, without another line
        assert asyncio.get_running_loop().time() < deadline, "Slack was not tried again"
        await asyncio.sleep(0.5)
    assert "tocsin_slack_up 0.0" in await get_text(port, "/metrics")
    assert await stop(process, lines) == 0
    text = "".join(lines)
    (warning,) = [line for line in lines if "is unreachable" in line]
    assert url in warning
    assert "xoxb-test-token" not in text and "xapp-test-token" not in text
    assert "Traceback" not in text
    assert all(len(line) < 300 for line in lines)


async def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        env = env_for(tmp_path, PORT=str(busy), SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/")
        code, _, err = await run("run", env=env, cwd=tmp_path)
    assert code == 2
    assert (
        err.strip().splitlines()[-1] == f"tocsin: HOST/PORT: cannot listen on 127.0.0.1:{busy} (Address already in use)"
    )
    assert "Traceback" not in err


async def test_readiness_is_the_database_with_slack_s_state_as_detail(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    double.fail_next("auth.test", "fatal_error")  # Slack answers, with an error that may pass…
    double.fail_next("auth.test", "invalid_auth", times=2)  # …then refuses the token, twice, then accepts it
    tocsin = await start_tocsin(sqlite_url)
    seen: list[dict[str, str]] = []

    async def slack_ok() -> bool:
        status, report = await get(tocsin.port, "/readyz")
        assert status == 200 and report["database"] == "ok"  # ready whatever Slack says
        if report not in seen:
            seen.append(report)
        return bool(report["slack"] == "ok")

    deadline = asyncio.get_running_loop().time() + 60
    while not await slack_ok():
        assert asyncio.get_running_loop().time() < deadline, f"Slack never came back: {seen}"
        await asyncio.sleep(0.02)
    assert {"database": "ok", "slack": "not authenticated", "slack_reason": "invalid_auth"} in seen
    assert seen[-1] == {"database": "ok", "slack": "ok"}
    metrics = await get_text(tocsin.port, "/metrics")
    assert "tocsin_slack_up 1.0" in metrics
    assert 'tocsin_slack_api_errors_total{error="invalid_auth",method="auth.test"} 2.0' in metrics


async def test_a_refused_app_token_is_one_line_and_exit_2(double: SlackDouble, tmp_path: Path) -> None:
    env = env_for(tmp_path, SLACK_API_URL=double.api_url, SLACK_APP_TOKEN="xapp-revoked")
    code, _, err = await run("run", env=env, cwd=tmp_path)
    assert code == 2
    assert err.strip().splitlines()[-1] == "tocsin: SLACK_APP_TOKEN was refused by Slack (invalid_auth)"
    assert "Traceback" not in err


async def test_an_unreachable_database_is_retried_then_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/tocsin"
    for command in ("run", "migrate"):
        env = env_for(tmp_path, DATABASE_URL=url, STARTUP_TIMEOUT="2")
        code, _, err = await run(command, env=env, cwd=tmp_path)
        assert code == 2, err
        last = err.strip().splitlines()[-1]
        assert last.startswith("tocsin: DATABASE_URL: the database at postgresql://postgres@127.0.0.1:")
        assert "did not answer within 2s" in last
        assert err.count("the database is unreachable") >= 2 and "Traceback" not in err


@pytest.mark.parametrize("problem", ["missing-sqlite-folder", "missing-postgres-database"])
async def test_a_database_that_refuses_is_one_line_and_exit_2(tmp_path: Path, problem: str) -> None:
    if problem == "missing-postgres-database":
        if not POSTGRES_URL:
            pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL tests need a server (CI sets it)")
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_here"
    else:
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'tocsin.db'}"
    code, _, err = await run("run", env=env_for(tmp_path, DATABASE_URL=url), cwd=tmp_path)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("tocsin: DATABASE_URL: the database refused Tocsin:")
    assert "Traceback" not in err


async def test_a_signal_while_waiting_for_the_database_stops_at_once(tmp_path: Path) -> None:
    env = env_for(tmp_path, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed_port()}/tocsin")
    process, port, lines = await started(env, tmp_path)
    await read_lines(process, lines, "the database is unreachable")
    assert (await get(port, "/readyz"))[0] == 503
    assert await stop(process, lines) == 0
    assert "Traceback" not in "".join(lines)


async def test_json_logs_are_one_object_a_line_with_the_events_fields(double: SlackDouble, tmp_path: Path) -> None:
    env = env_for(tmp_path, SLACK_API_URL=double.api_url, LOG_FORMAT="json")
    process, port, lines = await started(env, tmp_path)
    await read_lines(process, lines, "is up on")
    double.app_url = f"http://127.0.0.1:{port}/slack/events"
    await double.slash_command("U0ALICE", double.channel_named("general").id, "declare sev2 Checkout errors")
    await read_lines(process, lines, "declared at SEV2")
    assert await stop(process, lines) == 0
    records = [json.loads(line) for line in lines if line.strip()]
    assert all({"timestamp", "level", "logger", "message"} <= set(r) for r in records)
    (declared,) = [r for r in records if r["message"] == "INC-1 declared at SEV2 by U0ALICE"]
    assert declared["incident"] == "INC-1" and declared["actor"] == "U0ALICE" and declared["team"] == "T0TOCSIN"
    assert any(r["message"].startswith("Tocsin is up on") and "version" in r["message"] for r in records)
