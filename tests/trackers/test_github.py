"""Follow-ups and GitHub issues, both ways, against a double speaking GitHub's REST API and webhooks, on
SQLite and PostgreSQL: an issue is made for a new follow-up (labels per severity, the incident in its
body); marking the follow-up done closes it; closing or reopening it in GitHub closes or reopens the
follow-up as `tracker:gh`; a forged webhook is refused and changes nothing; a webhook delivered twice, or
deliveries out of order, change nothing twice; GitHub's rate limits are waited out, not hammered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.domain.incidents import TimelineKind
from bot.domain.slack_values import ReplyTarget
from tests.service.fakes import event_kinds, timeline_texts
from tests.trackers.github_double import GithubDouble
from tests.trackers.rig import Rig, database, rig

TRACKER: dict[str, Any] = {
    "kind": "github",
    "repo": "acme/ops",
    "token_env": "GH_TOKEN",
    "webhook_secret_env": "GH_HOOK",
    "labels": {"SEV2": ["incident", "sev2"]},
}
ALICE = ReplyTarget("U0ALICE", "C0INC1")
ENVIRON = {"GH_TOKEN": "ghp_good", "GH_HOOK": "gh-hook-secret"}


@pytest.fixture
async def github() -> AsyncIterator[GithubDouble]:
    double = await GithubDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def tocsin(database_url: str, github: GithubDouble) -> AsyncIterator[Rig]:
    async with database(database_url) as units:
        github_policy = {
            "trackers": {"gh": {**TRACKER, "api_url": github.url}},
            "follow_ups": {"tracker": "gh", "create": "auto"},
        }
        async with rig(units, github, github_policy, ENVIRON) as made:
            yield made


async def test_a_new_follow_up_becomes_an_issue_with_its_incident_labels_and_link(
    tocsin: Rig, github: GithubDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident, "Raise the pool size", owner="U0BOB")
    assert await tocsin.deliver() == 1
    (issue,) = github.issues.values()
    assert issue.title == "Raise the pool size" and issue.labels == ["incident", "sev2"]
    assert f"{incident.reference}: Checkout errors (SEV2)" in issue.body and "<@U0BOB>" in issue.body
    stored = await tocsin.issue(item.id)
    assert stored is not None and (stored.key, stored.url, stored.state) == (
        "#1",
        "https://github.test/acme/ops/issues/1",
        "open",
    )
    notes = await timeline_texts(tocsin.units, incident.id, TimelineKind.FOLLOW_UP)
    assert any("Issue #1 made in gh" in n for n in notes)
    assert await tocsin.deliver() == 0  # delivered: not made twice
    assert len(github.issues) == 1


async def test_marking_the_follow_up_done_closes_the_issue_and_githubs_echo_changes_nothing(
    tocsin: Rig, github: GithubDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    assert await tocsin.follow_ups.mark_done(item.id, actor="U0ALICE", reply_to=None)
    await tocsin.deliver()
    assert github.issues[1].state == "closed" and len(github.made("PATCH")) == 1
    # GitHub tells every webhook of the close Tocsin made: nothing changes again
    assert await github.send(github.webhook(1, "closed")) == 202
    assert (await tocsin.stored(item.id)).done_by == "U0ALICE"
    assert await event_kinds(tocsin.units, incident.id) == ["follow_up.created", "follow_up.closed"]


async def test_closing_and_reopening_the_issue_in_github_closes_and_reopens_the_follow_up(
    tocsin: Rig, github: GithubDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    closed = await github.close_issue(1)
    assert closed.statuses == [202]
    done = await tocsin.stored(item.id)
    assert not done.is_open and done.done_by == "tracker:gh"
    await tocsin.deliver()  # the follow_up.closed event: the issue is closed already, so no call
    assert github.made("PATCH") == []
    await github.reopen_issue(1)
    assert (await tocsin.stored(item.id)).is_open
    await tocsin.deliver()
    assert github.made("PATCH") == []
    kinds = await event_kinds(tocsin.units, incident.id)
    assert kinds == ["follow_up.created", "follow_up.closed", "follow_up.reopened"]


async def test_a_forged_webhook_is_refused_and_changes_nothing(tocsin: Rig, github: GithubDouble) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    forged = await github.close_issue(1, send=False)
    forged.headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    assert await github.send(forged) == 401
    del forged.headers["X-Hub-Signature-256"]
    assert await github.send(forged) == 401
    assert (await tocsin.stored(item.id)).is_open
    huge = github.webhook(1, "closed")
    huge.body = b" " * (1024 * 1024 + 1)
    assert await github.send(huge) == 413
    unknown = github.webhook(1, "closed")
    unknown.url = unknown.url.replace("/trackers/gh/", "/trackers/nobody/")
    assert await github.send(unknown) == 404


async def test_the_same_webhook_delivered_twice_changes_the_follow_up_once(tocsin: Rig, github: GithubDouble) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    delivery = await github.close_issue(1)
    await tocsin.follow_ups.get(item.id)
    github.issues[1].state = "open"  # even were it reopened meanwhile, the same delivery is not applied again
    assert await github.send(delivery) == 202
    assert not (await tocsin.stored(item.id)).is_open
    notes = await timeline_texts(tocsin.units, incident.id, TimelineKind.FOLLOW_UP)
    assert len([n for n in notes if n.startswith("Follow-up done")]) == 1


async def test_deliveries_out_of_order_leave_the_follow_up_as_the_issue_is(tocsin: Rig, github: GithubDouble) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    first = await github.close_issue(1, send=False)
    second = await github.reopen_issue(1, send=False)
    third = await github.close_issue(1, send=False)
    for delivery in (third, first, second):
        assert await github.send(delivery) == 202
    assert not (await tocsin.stored(item.id)).is_open
    kinds = await event_kinds(tocsin.units, incident.id)
    assert kinds == ["follow_up.created", "follow_up.closed"]


async def test_github_answering_500_for_a_minute_is_retried_with_backoff_then_the_issue_is_made_once(
    tocsin: Rig, github: GithubDouble
) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    github.outage(500)
    for _ in range(60):  # a minute, a second at a time: the backoff decides when it tries
        await tocsin.deliver()
        tocsin.clock.advance(seconds=1)
    tries = len(github.calls)
    assert 3 <= tries <= 8 and github.issues == {}  # 1 s doubling: a handful of tries, not one a second
    assert tocsin.errors("gh", "server_error") == tries
    github.outage(None)
    tocsin.clock.advance(minutes=2)
    await tocsin.deliver()
    assert len(github.issues) == 1


async def test_a_secondary_rate_limit_is_waited_out_without_calling_github(tocsin: Rig, github: GithubDouble) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    github.secondary_limit(60)
    await tocsin.deliver()
    assert len(github.calls) == 1 and tocsin.errors("gh", "rate_limited") == 1
    github.secondary_limit(None)  # GitHub would still refuse: Tocsin must not even ask before the minute is up
    for _ in range(5):
        tocsin.clock.advance(seconds=10)
        await tocsin.deliver()
    assert len(github.calls) == 1
    tocsin.clock.advance(minutes=2)
    await tocsin.deliver()
    assert len(github.issues) == 1


async def test_a_spent_rate_limit_waits_for_its_reset(tocsin: Rig, github: GithubDouble) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    github.remaining = 0
    github.reset_at = int(tocsin.clock().timestamp()) + 300
    await tocsin.deliver()
    assert tocsin.errors("gh", "rate_limited") == 1
    github.remaining = 10
    tocsin.clock.advance(minutes=1)
    await tocsin.deliver()
    assert len(github.calls) == 1  # not before x-ratelimit-reset
    tocsin.clock.advance(minutes=10)
    await tocsin.deliver()
    assert len(github.issues) == 1


async def test_check_says_what_the_token_can_do(tocsin: Rig, github: GithubDouble) -> None:
    (line,) = await tocsin.sync.trackers["gh"].check()
    assert line == "github gh (acme/ops): can read the repository; can create and close issues; webhooks verified"
    github.push = False
    (line,) = await tocsin.sync.trackers["gh"].check()
    assert "cannot write issues" in line
    github.token = "ghp_other"
    (line,) = await tocsin.sync.trackers["gh"].check()
    assert line == "github gh (acme/ops): cannot read the repository (unauthorized)"


async def test_done_in_slack_after_github_closed_it_says_the_tracker_did(tocsin: Rig, github: GithubDouble) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    await github.close_issue(1)
    assert not await tocsin.follow_ups.mark_done(item.id, actor="U0ALICE", reply_to=ALICE)
    (said,) = tocsin.slack.made("reply")
    assert said.text == "That follow-up was already marked done by the tracker gh."
