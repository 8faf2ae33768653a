"""Tocsin on a read-only root filesystem (Kubernetes' readOnlyRootFilesystem with no /tmp volume): the
database still works where a volume is mounted, and `/incident stats` still answers with its figures
when matplotlib finds no writable cache folder; the chart is left out with one log line."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import eventually
from tests.e2e.test_startup import TOCSIN, env_for, read_lines, stop
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

# In a mount namespace of its own: /tmp and /var/tmp read-only (so are HOME and the working folder,
# which lie below /tmp), and a writable tmpfs only where the database lives, as a volume would be.
READ_ONLY_ROOT = """
set -e
mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp
mount --bind /var/tmp /var/tmp && mount -o remount,bind,ro /var/tmp
mount -t tmpfs -o size=64m tmpfs "$TOCSIN_DATA"
exec "$@"
"""


def can_make_read_only_mounts() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not can_make_read_only_mounts(), reason="read-only mounts need root and unshare (CI runs as root)"
)


def incident_channels(double: SlackDouble) -> list[Channel]:
    return [c for c in double.channels.values() if c.name.startswith("inc-") and c.messages]


async def start_read_only(env: dict[str, str], cwd: Path) -> tuple[asyncio.subprocess.Process, int, list[str]]:
    """`tocsin run` with nothing writable but its database's folder; the process, its port, its lines."""
    process = await asyncio.create_subprocess_exec(
        "unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_ROOT, "sh", *TOCSIN, "run",
        env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        assert line, "tocsin exited: " + "".join(lines)
        lines.append(line)
        if match := re.search(r"serving HTTP on 127\.0\.0\.1:(\d+)", line):
            return process, int(match.group(1)), lines


async def test_stats_answer_with_their_figures_when_no_folder_is_writable_for_the_chart(
    double: SlackDouble, tmp_path: Path
) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    env = env_for(
        tmp_path,
        SLACK_API_URL=double.api_url,
        DATABASE_URL=f"sqlite:///{data / 'tocsin.db'}",
        HOME=str(home),
        TOCSIN_DATA=str(data),
        PYTHONDONTWRITEBYTECODE="1",
    )
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TMPDIR", "TEMP", "TMP"):
        env.pop(name, None)
    process, port, lines = await start_read_only(env, cwd=tmp_path)
    try:
        await read_lines(process, lines, "is up on", within=60)
        double.app_url = f"http://127.0.0.1:{port}/slack/events"
        general = double.channel_named("general")
        await double.slash_command("U0ALICE", general.id, "declare sev1 Checkout down")
        await read_lines(process, lines, "declared at SEV1", within=60)
        await eventually(lambda: incident_channels(double), within=60, what="the incident channel")
        (channel,) = incident_channels(double)
        await double.slash_command("U0ALICE", channel.id, "resolve Fixed")
        await read_lines(process, lines, "INC-1: resolved", within=60)

        before = len(double.responses)
        await double.slash_command("U0ALICE", general.id, "stats")
        await eventually(lambda: len(double.responses) > before, within=60, what="the stats reply")
        await read_lines(process, lines, "the stats chart could not be drawn", within=30)
    finally:
        code = await stop(process, lines)
    (reply,) = double.responses[before:]
    assert "*SEV1* · 1 incident" in reply["text"] and "(1 resolved)" in reply["text"]
    assert not [b for b in reply["blocks"] if b["type"] == "image"]
    assert not double.calls_to("files.getUploadURLExternal")
    (warning,) = [line for line in lines if "the stats chart could not be drawn" in line]
    assert "writable cache directory" in warning and "MPLCONFIGDIR" in warning
    assert code == 0 and "Traceback" not in "".join(lines)
    assert not (tmp_path / "tocsin.db").exists()  # nothing was written outside the data volume
