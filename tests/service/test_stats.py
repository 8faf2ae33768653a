"""`/incident stats`: the figures for a window, shown privately or shared where the command was typed,
with the MTTR chart when something was resolved, and without it when Slack will not take the picture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused
from bot.domain.incidents import Status
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.slack import messages
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.stats import StatsReport
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, ScriptedSlack, incident_in_channel, shown, sqlite_database

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ASKER = ReplyTarget("U0ALICE", "C0OPS")


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    async with sqlite_database(tmp_path) as database:
        yield database


async def history(uow: UnitOfWorkFactory) -> None:
    """A SEV1 declared 3 days ago and resolved 2 hours later, a SEV2 still open from 10 days ago, and a
    SEV3 in another workspace."""
    sev1 = await incident_in_channel(uow, now=NOW - timedelta(days=3), channel_id="C1", severity="SEV1")
    await incident_in_channel(uow, now=NOW - timedelta(days=10), channel_id="C2", severity="SEV2")
    await incident_in_channel(uow, now=NOW - timedelta(days=1), channel_id="C3", severity="SEV3", team_id="T9")
    async with uow() as work:
        resolved_at = NOW - timedelta(days=3) + timedelta(hours=2)
        await work.incidents.update(sev1.id, status=Status.RESOLVED.value, resolved_at=resolved_at)
        await work.commit()


async def report(uow: Callable[..., UnitOfWork]) -> tuple[StatsReport, ScriptedSlack]:
    slack = ScriptedSlack()
    await history(uow)
    return StatsReport(uow=uow, slack=slack, messages=messages, policy=Policy(), clock=FakeClock(NOW)), slack


async def test_the_figures_count_the_window_and_the_workspace_only(uow: Callable[..., UnitOfWork]) -> None:
    stats, _ = await report(uow)
    week = await stats.compute("T1", days=7)
    assert week.total == 1 and [(s.severity, s.incidents) for s in week.by_severity] == [("SEV1", 1)]
    (sev1,) = week.by_severity
    assert sev1.resolve.count == 1 and sev1.resolve.median == pytest.approx(2 * 3600, abs=1)
    all_time = await stats.compute("T1", days=None)
    assert all_time.total == 2 and all_time.since is None
    assert await stats.open_by_severity() == {"SEV2": 1, "SEV3": 1}  # every workspace: the /metrics gauge


async def test_shown_privately_with_the_chart_uploaded_unshared(uow: Callable[..., UnitOfWork]) -> None:
    stats, slack = await report(uow)
    await stats.show(team_id="T1", days=30, share=False, reply_to=ASKER)
    (upload,) = slack.made("upload")
    assert upload.where == "" and upload.extra["filename"] == "mttr-by-week.png"  # shared with nobody
    (answer,) = slack.made("reply")
    assert answer.where == "U0ALICE" and "last 30 days" in answer.text and "2 incidents" in answer.text
    assert '"type": "image"' in shown(answer) and slack.made("post") == []


async def test_shared_in_the_channel_it_was_typed_in_and_without_a_chart_when_nothing_resolved(
    uow: Callable[..., UnitOfWork],
) -> None:
    slack = ScriptedSlack()
    await incident_in_channel(uow, now=NOW - timedelta(days=1), channel_id="C1")
    stats = StatsReport(uow=uow, slack=slack, messages=messages, policy=Policy(), clock=FakeClock(NOW))
    await stats.show(team_id="T1", days=None, share=True, reply_to=ASKER)
    (posted,) = slack.made("post")
    assert posted.where == "C0OPS" and "all time" in posted.text and "1 incident" in posted.text
    assert slack.made("upload") == [] and slack.made("reply") == []


async def test_the_figures_go_out_without_the_chart_when_slack_refuses_the_upload(
    uow: Callable[..., UnitOfWork],
) -> None:
    stats, slack = await report(uow)
    slack.refuse("upload", SlackRefused("not_allowed_token_type"))
    await stats.show(team_id="T1", days=30, share=False, reply_to=ASKER)
    (answer,) = slack.made("reply")
    assert "2 incidents" in answer.text and '"type": "image"' not in shown(answer)
