"""Slack user groups that follow a schedule, end to end: the group named by its handle is set to whoever
is on call at start and at each handoff; one Slack refuses to update is tried again a few times, then
reported (a warning, the handover channel or the admins, the metric), never silently; the double
refuses what Slack refuses. The real app, the strict Slack double, both databases."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Tocsin
from bot.domain.policy import Policy
from tests.conftest import FakeClock, StartTocsin
from tests.handovers.test_handoffs import POLICY, tick_jobs
from tests.slack_double import SlackDouble


def with_group(extra: dict[str, Any] | None = None, **schedule: Any) -> Policy:
    primary = {**POLICY["schedules"]["payments-primary"], "usergroup": "@checkout-oncall", **schedule}
    return Policy.model_validate({**POLICY, "schedules": {"payments-primary": primary}, **(extra or {})})


async def failures(tocsin: Tocsin) -> float:
    """tocsin_usergroup_syncs_total{outcome="failed"}, as GET /metrics says."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{tocsin.port}/metrics") as response,
    ):
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tocsin_usergroup_syncs_total" and sample.labels.get("outcome") == "failed":
                return float(sample.value)
    return 0.0


async def test_the_group_follows_whoever_is_on_call(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double.add_channel("oncall", bot_member=True)
    double.add_group("S0CHECKOUT", "checkout-oncall", {"U0ALICE"})
    tocsin = await start_tocsin(database_url, clock=clock, policy=with_group())
    await tick_jobs(tocsin)
    assert double.groups["S0CHECKOUT"] == {"U0BOB"}
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await tick_jobs(tocsin)
    assert double.groups["S0CHECKOUT"] == {"U0CAROL"}
    assert double.group_updates("S0CHECKOUT") == [["U0BOB"], ["U0CAROL"]]


async def test_a_group_slack_refuses_to_update_is_retried_then_reported(
    double: SlackDouble,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    oncall = double.add_channel("oncall", bot_member=True)
    double.add_group("S0CHECKOUT", "checkout-oncall", {"U0ALICE"})
    double.refuse_group_updates(4)  # the workspace lets only admins manage user groups, for a while
    tocsin = await start_tocsin(database_url, clock=clock, policy=with_group())
    caplog.set_level(logging.WARNING)
    await tick_jobs(tocsin)
    for minutes in (1, 2):  # tried again 1, then 2 minutes later: still refused, nobody told yet
        clock.advance(minutes=minutes)
        await tick_jobs(tocsin)
    assert oncall.messages == [] and await failures(tocsin) == 0
    clock.advance(minutes=4)
    await tick_jobs(tocsin)
    attempts = [c for c in double.calls if c.method == "usergroups.users.update"]
    assert [c.error for c in attempts] == ["permission_denied"] * 4
    reports = [m["text"] for m in oncall.messages]
    assert len(reports) == 1 and "checkout-oncall" in reports[0] and "`permission_denied`" in reports[0]
    assert await failures(tocsin) == 1
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "not set after 4 tries" in r.message]
    assert len(warned) == 1 and warned[0].exc_info is None
    assert double.groups["S0CHECKOUT"] == {"U0ALICE"}
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Slack lets it through by the next handoff
    await tick_jobs(tocsin)
    assert double.groups["S0CHECKOUT"] == {"U0CAROL"}


async def test_without_a_handover_channel_the_admins_hear_of_a_group_that_does_not_exist(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    double = people
    policy = with_group({"admins": ["U0DAVE"]}, handover_channel=None, usergroup="@no-such-group")
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy)
    for minutes in (0, 1, 2, 4):
        clock.advance(minutes=minutes)
        await tick_jobs(tocsin)
    told = [m["text"] for m in double.dm_messages("U0DAVE")]
    assert len(told) == 1 and "no_such_subteam" in told[0]


async def test_the_double_refuses_updates_as_slack_does(double: SlackDouble) -> None:
    double.add_group("S0CHECKOUT", "checkout-oncall", {"U0ALICE"})
    client = AsyncWebClient(token=double.bot_token, base_url=double.api_url)
    listed = await client.usergroups_list(include_users=True)
    assert [(g["id"], g["handle"], g["users"]) for g in listed["usergroups"]] == [
        ("S0CHECKOUT", "checkout-oncall", ["U0ALICE"])
    ]
    for group, users, error in [
        ("S0NOPE", "U0BOB", "no_such_subteam"),
        ("S0CHECKOUT", "", "no_users_provided"),
        ("S0CHECKOUT", "U0BOB,U0NOBODY", "invalid_users"),
        ("S0CHECKOUT", "U0TOCSINBOT", "invalid_users"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            await client.usergroups_users_update(usergroup=group, users=users)
        assert refused.value.response["error"] == error
    assert double.groups["S0CHECKOUT"] == {"U0ALICE"}
    double.scopes.discard("usergroups:write")
    with pytest.raises(SlackApiError) as refused:
        await client.usergroups_users_update(usergroup="S0CHECKOUT", users="U0BOB")
    assert refused.value.response["error"] == "missing_scope"
