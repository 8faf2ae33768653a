"""Follow-ups and GitLab issues, both ways, against a double speaking GitLab's REST v4 API and its Issue
Hook webhooks, on SQLite and PostgreSQL: an issue is made with its due date, labels and (found by e-mail)
assignee; marking the follow-up done closes it with `state_event`; closing or reopening it in GitLab closes
or reopens the follow-up; a webhook with the wrong `X-Gitlab-Token` is refused and changes nothing; the
same delivery twice changes nothing twice; a 429 is waited out for its `Retry-After`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from tests.service.fakes import event_kinds
from tests.trackers.gitlab_double import GitlabDouble
from tests.trackers.rig import Rig, database, rig

ENVIRON = {"GL_TOKEN": "glpat-good", "GL_HOOK": "gl-secret"}


@pytest.fixture
async def gitlab() -> AsyncIterator[GitlabDouble]:
    double = await GitlabDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def tocsin(database_url: str, gitlab: GitlabDouble) -> AsyncIterator[Rig]:
    tracker = {
        "kind": "gitlab",
        "project": "acme/ops",
        "url": gitlab.url,
        "token_env": "GL_TOKEN",
        "webhook_secret_env": "GL_HOOK",
        "labels": {"sev2": ["incident"]},
    }
    policy = {"trackers": {"gl": tracker}, "follow_ups": {"tracker": "gl", "create": "auto"}}
    async with database(database_url) as units, rig(units, gitlab, policy, ENVIRON) as made:
        yield made


async def emails(user_id: str) -> str | None:
    return {"U0ADA": "ada@example.com"}.get(user_id)


async def test_a_new_follow_up_becomes_an_issue_with_its_due_date_labels_and_assignee(
    tocsin: Rig, gitlab: GitlabDouble
) -> None:
    tocsin.sync.email_of = emails
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident, "Add a pool alert", owner="U0ADA", due_on=date(2026, 12, 20))
    await tocsin.deliver()
    (issue,) = gitlab.issues.values()
    assert (issue.title, issue.due_date, issue.labels, issue.assignee_ids) == (
        "Add a pool alert",
        "2026-12-20",
        ["incident"],
        [7],
    )
    assert "Due: 2026-12-20" in issue.description
    stored = await tocsin.issue(item.id)
    assert stored is not None and (stored.key, stored.url) == ("#1", "https://gitlab.test/acme/ops/-/issues/1")


async def test_an_owner_gitlab_cannot_find_is_named_in_the_description(tocsin: Rig, gitlab: GitlabDouble) -> None:
    tocsin.sync.email_of = emails
    incident = await tocsin.incident()
    await tocsin.follow_up(incident, "Add a pool alert", owner="U0BOB")
    await tocsin.deliver()
    (issue,) = gitlab.issues.values()
    assert issue.assignee_ids == [] and "Owner: <@U0BOB>" in issue.description


async def test_done_in_slack_closes_the_issue_and_closing_or_reopening_in_gitlab_follows(
    tocsin: Rig, gitlab: GitlabDouble
) -> None:
    incident = await tocsin.incident()
    first = await tocsin.follow_up(incident, "One")
    second = await tocsin.follow_up(incident, "Two")
    await tocsin.deliver()
    await tocsin.follow_ups.mark_done(first.id, actor="U0ALICE", reply_to=None)
    await tocsin.deliver()
    assert gitlab.issues[1].state == "closed"
    assert [c.body for c in gitlab.made("PUT")] == [{"state_event": "close"}]
    assert (await gitlab.close_issue(2)).statuses == [202]
    assert (await tocsin.stored(second.id)).done_by == "tracker:gl"
    await gitlab.reopen_issue(2)
    assert (await tocsin.stored(second.id)).is_open
    await tocsin.deliver()
    assert len(gitlab.made("PUT")) == 1  # the changes GitLab told are not sent back to it
    kinds = await event_kinds(tocsin.units, incident.id)
    assert kinds.count("follow_up.closed") == 2 and kinds.count("follow_up.reopened") == 1


async def test_a_webhook_with_the_wrong_token_is_refused_and_a_repeat_changes_nothing(
    tocsin: Rig, gitlab: GitlabDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    forged = await gitlab.close_issue(1, send=False)
    forged.headers["X-Gitlab-Token"] = "guess"
    assert await gitlab.send(forged) == 401
    assert (await tocsin.stored(item.id)).is_open
    real = gitlab.webhook(1, "close")
    assert await gitlab.send(real) == 202
    await gitlab.reopen_issue(1, send=False)  # reopened meanwhile, but its webhook is still to come
    assert await gitlab.send(real) == 202  # the same delivery again: nothing
    assert not (await tocsin.stored(item.id)).is_open
    assert (await event_kinds(tocsin.units, incident.id)).count("follow_up.closed") == 1


async def test_a_429_is_waited_out_for_its_retry_after(tocsin: Rig, gitlab: GitlabDouble) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    gitlab.rate_limit(120)
    await tocsin.deliver()
    assert len(gitlab.calls) == 1 and tocsin.errors("gl", "rate_limited") == 1
    gitlab.rate_limit(None)
    for _ in range(5):
        tocsin.clock.advance(seconds=20)
        await tocsin.deliver()
    assert len(gitlab.calls) == 1
    tocsin.clock.advance(minutes=5)
    await tocsin.deliver()
    assert len(gitlab.issues) == 1


async def test_check_says_what_the_token_can_do(tocsin: Rig, gitlab: GitlabDouble) -> None:
    (line,) = await tocsin.sync.trackers["gl"].check()
    assert line == "gitlab gl (acme/ops): can read the project; can create and close issues; webhooks verified"
    gitlab.access_level = 10
    (line,) = await tocsin.sync.trackers["gl"].check()
    assert "may not close issues" in line
