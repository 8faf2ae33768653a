"""The tracker rules, whatever the tracker (shown with the GitHub double), on SQLite and PostgreSQL: a
refused token is one log line, the metric and one DM to the owner, never a retry storm; a private
incident's follow-ups reach only a tracker marked `private: true`; the **Create issue** button makes one
issue however often it is pressed; the polling fallback finds what webhooks would have said, and two
replicas polling at once ask about each issue once; a service's tracker wins over the default."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import main
from bot.domain.errors import UserError
from bot.domain.policy import Policy
from bot.domain.postmortem import PostmortemFacts, render_draft
from bot.domain.tracker_policy import tracker_problems
from bot.entrypoints.policy_check import check_policy_file
from bot.entrypoints.tracker_polling import TrackerPolling
from bot.slack.blocks.follow_ups import follow_up_list
from bot.usecases.ports import UnitOfWorkFactory
from tests.conftest import eventually
from tests.trackers.github_double import GithubDouble
from tests.trackers.rig import T0, database, rig

ENVIRON = {"GH_TOKEN": "ghp_good", "GH_HOOK": "gh-hook-secret"}


def policy(url: str, *, create: str = "auto", **tracker: Any) -> dict[str, Any]:
    gh = {"kind": "github", "repo": "acme/ops", "token_env": "GH_TOKEN", "api_url": url, **tracker}
    return {"trackers": {"gh": gh}, "follow_ups": {"tracker": "gh", "create": create}}


@pytest.fixture
async def github() -> AsyncIterator[GithubDouble]:
    double = await GithubDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def units(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    async with database(database_url) as made:
        yield made


async def test_a_refused_token_is_said_once_counted_and_the_owner_told_once_without_retrying(
    units: UnitOfWorkFactory, github: GithubDouble, caplog: pytest.LogCaptureFixture
) -> None:
    async with rig(units, github, policy(github.url), {"GH_TOKEN": "ghp_revoked"}) as tocsin:
        incident = await tocsin.incident()
        first = await tocsin.follow_up(incident, "Raise the pool size", owner="U0BOB")
        second = await tocsin.follow_up(incident, "Alert on pool use")
        with caplog.at_level(logging.WARNING):
            assert await tocsin.deliver() == 2
            for _ in range(10):  # however long it goes on, nothing is tried again
                tocsin.clock.advance(minutes=10)
                await tocsin.deliver()
        assert len(github.calls) == 2  # one call per follow-up, no retries
        refusals = [r for r in caplog.records if "refused" in r.getMessage() and r.name.endswith("tracker_sync")]
        assert len(refusals) == 1 and "unauthorized" in refusals[0].getMessage()
        assert "ghp_revoked" not in caplog.text
        assert tocsin.errors("gh", "unauthorized") == 2
        told = tocsin.slack.made("dm")
        assert [c.where for c in told] == ["U0BOB", "U0ALICE"]  # the owner; with no owner, the commander
        assert "unauthorized" in told[0].text and "Raise the pool size" in told[0].text
        stored = await tocsin.issue(first.id)
        assert stored is not None and not stored.made and stored.failed_reason == "unauthorized"
        assert (await tocsin.stored(second.id)).is_open


async def test_a_private_incidents_follow_ups_reach_no_tracker_not_marked_private(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url), ENVIRON) as tocsin:
        secret = await tocsin.incident(private=True, declare_key="secret")
        item = await tocsin.follow_up(secret, "Rotate the leaked key")
        await tocsin.deliver()
        assert github.calls == [] and await tocsin.issue(item.id) is None
        with pytest.raises(UserError, match="allows private incidents"):
            await tocsin.sync.create_issue(item.id, actor="U0ALICE")
        assert github.calls == []


async def test_a_tracker_marked_private_takes_private_incidents_follow_ups(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url, private=True), ENVIRON) as tocsin:
        secret = await tocsin.incident(private=True, declare_key="secret")
        item = await tocsin.follow_up(secret, "Rotate the leaked key")
        await tocsin.deliver()
        assert len(github.issues) == 1 and await tocsin.issue(item.id) is not None


async def test_the_create_issue_button_makes_one_issue_however_often_it_is_pressed(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url, create="button"), ENVIRON) as tocsin:
        incident = await tocsin.incident()
        item = await tocsin.follow_up(incident)
        await tocsin.deliver()
        assert github.issues == {}  # `create: button`: nothing until someone asks
        made = await tocsin.sync.create_issue(item.id, actor="U0ALICE")
        again = await tocsin.sync.create_issue(item.id, actor="U0CAROL")
        assert made == again and made.key == "#1" and len(github.issues) == 1


async def test_the_button_after_a_refusal_tries_again_and_says_why_when_it_fails(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url), ENVIRON) as tocsin:
        incident = await tocsin.incident()
        item = await tocsin.follow_up(incident)
        github.push = False
        await tocsin.deliver()
        stored = await tocsin.issue(item.id)
        assert stored is not None and stored.failed_reason == "forbidden"
        with pytest.raises(UserError, match="forbidden"):
            await tocsin.sync.create_issue(item.id, actor="U0ALICE")
        github.push = True  # someone fixed the token's access
        made = await tocsin.sync.create_issue(item.id, actor="U0ALICE")
        assert made.made and made.failed_reason is None


async def test_polling_finds_an_issue_closed_in_the_tracker_and_two_replicas_ask_once(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url), {"GH_TOKEN": "ghp_good"}) as tocsin:
        incident = await tocsin.incident()
        item = await tocsin.follow_up(incident)
        await tocsin.deliver()
        await github.close_issue(1, send=False)  # no webhook secret: nothing is sent; polling must notice
        assert await tocsin.sync.poll_due("replica-a") == 0  # not due for ten minutes
        tocsin.clock.advance(minutes=10)
        polled = await asyncio.gather(tocsin.sync.poll_due("replica-a"), tocsin.sync.poll_due("replica-b"))
        assert sorted(polled) == [0, 1]
        assert len(github.made("GET", "/issues/1")) == 1
        done = await tocsin.stored(item.id)
        assert not done.is_open and done.done_by == "tracker:gh"
        tocsin.clock.advance(minutes=30)
        assert await tocsin.sync.poll_due("replica-a") == 0  # closed: no longer polled


async def test_a_services_tracker_wins_over_the_default(units: UnitOfWorkFactory, github: GithubDouble) -> None:
    other = await GithubDouble(repo="acme/payments").start()
    try:
        chosen = policy(github.url)
        chosen["trackers"]["payments"] = {
            "kind": "github",
            "repo": "acme/payments",
            "token_env": "GH_TOKEN",
            "api_url": other.url,
        }
        chosen["services"] = {"checkout": {"tracker": "payments"}}
        async with rig(units, github, chosen, ENVIRON) as tocsin:
            incident = await tocsin.incident(service="checkout", declare_key="checkout")
            await tocsin.follow_up(incident)
            await tocsin.deliver()
        assert github.issues == {} and len(other.issues) == 1
    finally:
        await other.stop()


def test_tocsin_check_names_trackers_that_are_not_configured() -> None:
    checked = Policy.model_validate(
        {
            "trackers": {"gh": {"kind": "github", "repo": "acme/ops", "token_env": "GH_TOKEN"}},
            "follow_ups": {"tracker": "jira"},
            "services": {"checkout": {"tracker": "linear"}, "search": {"tracker": "gh"}},
        }
    )
    assert tracker_problems(checked) == [
        "follow_ups.tracker: unknown tracker 'jira'",
        "services.checkout.tracker: unknown tracker 'linear'",
    ]


def test_each_kind_has_its_own_keys() -> None:
    with pytest.raises(ValueError, match="repo"):
        Policy.model_validate({"trackers": {"gh": {"kind": "github", "token_env": "T"}}})
    with pytest.raises(ValueError, match="extra"):
        Policy.model_validate({"trackers": {"gl": {"kind": "gitlab", "project": "1", "token_env": "T", "repo": "x"}}})
    jira = {"kind": "jira", "url": "https://acme.atlassian.net", "project": "OPS", "email_env": "E", "token_env": "T"}
    checked = Policy.model_validate({"trackers": {"jira": jira}})
    assert checked.trackers["jira"].kind == "jira"


async def test_the_issue_shows_with_its_follow_up_in_slack_lists_and_the_postmortem_draft(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url, create="button"), ENVIRON) as tocsin:
        incident = await tocsin.incident()
        tracked = await tocsin.follow_up(incident, "Raise the pool size")
        untracked = await tocsin.follow_up(incident, "Alert on pool use")
        await tocsin.sync.create_issue(tracked.id, actor="U0ALICE")
        text, _ = await tocsin.follow_ups.listing(team_id="T1", scope="all", actor="U0ALICE")
        assert "Raise the pool size" in text and "<https://github.test/acme/ops/issues/1|#1>" in text
        items = [await tocsin.stored(tracked.id), await tocsin.stored(untracked.id)]
        _, blocks = follow_up_list(items, heading="Open follow-ups", today=T0.date(), offer_issue=True)
        offered = [b["elements"][0]["value"] for b in blocks if b["type"] == "actions"]
        assert offered == [str(untracked.id)]  # only the follow-up without an issue offers one
        facts = PostmortemFacts(incident=incident, timeline=[], roles=[], follow_ups=items)
        draft = render_draft(facts, Policy())
        assert "Raise the pool size ([#1](https://github.test/acme/ops/issues/1))" in draft
        assert "Alert on pool use |" in draft


async def test_tocsin_check_trackers_says_a_line_per_tracker(
    github: GithubDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "tocsin.yml"
    trackers = {
        "gh": {"kind": "github", "repo": "acme/ops", "token_env": "GH_TOKEN", "api_url": github.url},
        "old": {"kind": "github", "repo": "acme/ops", "token_env": "OLD_TOKEN", "api_url": github.url},
    }
    file.write_text(yaml.safe_dump({"trackers": trackers}))
    monkeypatch.setenv("GH_TOKEN", "ghp_good")
    monkeypatch.delenv("OLD_TOKEN", raising=False)
    assert await asyncio.to_thread(main, ["check", str(file), "--trackers"]) == 2
    said = capsys.readouterr().out.split("# trackers\n", 1)[1].splitlines()
    assert said == [
        "github gh (acme/ops): can read the repository; can create and close issues; no webhook secret (polling only)",
        "github old: OLD_TOKEN is not set (the token of trackers.old)",
    ]


async def test_the_polling_loop_follows_an_issue_closed_without_a_webhook(
    units: UnitOfWorkFactory, github: GithubDouble
) -> None:
    async with rig(units, github, policy(github.url), {"GH_TOKEN": "ghp_good"}) as tocsin:
        incident = await tocsin.incident()
        item = await tocsin.follow_up(incident)
        await tocsin.deliver()
        await github.close_issue(1, send=False)
        tocsin.clock.advance(minutes=10)
        polling = TrackerPolling(tocsin.sync, every=0.05)
        polling.start()
        try:
            await eventually(lambda: len(github.made("GET", "/issues/1")) == 1, within=30, what="the poll")
            deadline = asyncio.get_running_loop().time() + 30
            while (await tocsin.stored(item.id)).is_open:  # the poll's answer being followed
                assert asyncio.get_running_loop().time() < deadline, "the follow-up was never closed"
                await asyncio.sleep(0.01)
        finally:
            await polling.stop()
        assert (await tocsin.stored(item.id)).done_by == "tracker:gh"
        assert len(github.made("GET", "/issues/1")) == 1  # polled once: the next is ten minutes away


def test_tocsin_check_points_at_the_line_naming_an_unknown_tracker(tmp_path: Path) -> None:
    file = tmp_path / "tocsin.yml"
    file.write_text(
        "trackers:\n  gh: {kind: github, repo: acme/ops, token_env: GH}\n"
        "follow_ups:\n  tracker: nope\nservices:\n  api:\n    tracker: gone\n"
    )
    assert [str(p) for p in check_policy_file(file).problems] == [
        f"{file}:4: follow_ups.tracker: unknown tracker 'nope'",
        f"{file}:7: services.api.tracker: unknown tracker 'gone'",
    ]
