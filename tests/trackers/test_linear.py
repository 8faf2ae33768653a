"""The Linear adapter against the Linear double: issues made in the team with a Markdown description,
assigned when the owner's e-mail finds one user, closed and reopened through the team's workflow states;
RATELIMITED, a refused key and a failing API as the tracker errors; webhooks verified by signature and
timestamp (a replay is refused) and parsed."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import pytest

from bot.domain.errors import ConfigError
from bot.domain.policy import Policy
from bot.domain.tracker_issues import NewIssue, TrackerBusy, TrackerRefused
from bot.runtime.trackers import build_trackers
from bot.runtime.trackers.linear import LinearIssues
from tests.service.fakes import event_kinds
from tests.trackers.linear_double import LinearDouble
from tests.trackers.rig import Rig, database, rig

SECRET = "linear-signing-secret"
BODY = "Add an alert on the queue depth\n\nFollow-up of INC-7: Checkout down (SEV1)\nOwner: Ada"


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.at = 1_764_800_000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def linear(clock: Clock) -> AsyncIterator[LinearDouble]:
    double = await LinearDouble(clock=clock).start()
    yield double
    await double.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def adapter(linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock, *, key: str | None = None) -> LinearIssues:
    return LinearIssues(
        name="linear",
        http=http,
        webhook_secret=SECRET,
        now=clock,
        team="ENG",
        api_key=key or linear.api_key,
        api_url=linear.api_url,
    )


async def test_an_issue_is_made_in_the_team_with_its_markdown_labels_and_due_date(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    made = await adapter(linear, http, clock).create_issue(
        NewIssue(title="Add an alert", body=BODY, labels=("incident", "no-such-label"), due_on=date(2026, 12, 24))
    )
    assert made.key == "ENG-1"
    assert made.url == "https://linear.app/example/issue/ENG-1"
    issue = linear.issues["ENG-1"]
    assert made.id == issue.id
    assert issue.input["description"] == BODY
    assert issue.input["dueDate"] == "2026-12-24"
    assert issue.input["labelIds"] == [linear.team["labels"]["nodes"][0]["id"]]
    assert "assigneeId" not in issue.input


async def test_an_issue_made_by_team_id_finds_the_same_team(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = LinearIssues(name="linear", http=http, now=clock, team=linear.team["id"], api_key=linear.api_key)
    tracker.api_url = linear.api_url
    assert (await tracker.create_issue(NewIssue(title="t", body=BODY))).key == "ENG-1"


async def test_the_owner_is_assigned_when_their_email_finds_one_user_and_not_otherwise(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    ada = linear.add_user("ada@example.com", "Ada")
    tracker = adapter(linear, http, clock)
    found = await tracker.create_issue(NewIssue(title="t", body=BODY, assignee_email="ada@example.com"))
    assert linear.issues[found.key].input["assigneeId"] == ada["id"]
    unknown = await tracker.create_issue(NewIssue(title="t", body=BODY, assignee_email="bob@example.com"))
    assert "assigneeId" not in linear.issues[unknown.key].input


async def test_closing_and_reopening_use_the_teams_completed_and_unstarted_states(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert await tracker.state_of(made.id) == "open"
    await tracker.set_state(made.id, "closed")
    assert linear.issues[made.key].state["type"] == "completed"
    assert await tracker.state_of(made.id) == "closed"
    await tracker.set_state(made.id, "closed")  # already so: nothing moves
    await tracker.set_state(made.id, "open")
    assert linear.issues[made.key].history == ["completed", "unstarted"]


async def test_a_canceled_issue_counts_as_closed(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    await linear.move_by_person(made.key, "canceled", send=False)
    assert await tracker.state_of(made.id) == "closed"


async def test_ratelimited_is_busy_until_the_reset_and_nothing_is_called_before_it(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    linear.rate_limit(1, retry_after=20)
    with pytest.raises(TrackerBusy) as raised:
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "rate_limited"
    assert raised.value.retry_after == pytest.approx(20, abs=1)
    asked = len(linear.queries)
    with pytest.raises(TrackerBusy):
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert len(linear.queries) == asked
    clock.at += 21
    assert (await tracker.create_issue(NewIssue(title="t", body=BODY))).key == "ENG-1"


async def test_a_refused_key_is_refused_not_busy(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    with pytest.raises(TrackerRefused) as raised:
        await adapter(linear, http, clock, key="lin_api_wrong").create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "unauthorized"
    with pytest.raises(TrackerRefused):  # a personal key is sent bare, never as a Bearer token
        await adapter(linear, http, clock, key=f"Bearer {linear.api_key}").create_issue(NewIssue(title="t", body=BODY))


async def test_a_failing_api_is_busy_until_it_recovers(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    linear.outage(500)
    with pytest.raises(TrackerBusy) as raised:
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "server_error"
    linear.outage(None)
    assert (await tracker.create_issue(NewIssue(title="t", body=BODY))).key == "ENG-1"


async def test_an_unknown_team_is_refused(linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock) -> None:
    tracker = adapter(linear, http, clock)
    tracker.team = "NOPE"
    with pytest.raises(TrackerRefused) as raised:
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "not_found"


async def test_an_unknown_issue_is_refused_with_linears_message(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    with pytest.raises(TrackerRefused) as raised:
        await adapter(linear, http, clock).state_of("no-such-issue")
    assert raised.value.reason == "invalid_request"
    assert any("Entity not found" in note for note in raised.value.__notes__)


async def test_check_says_what_the_key_can_do(linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock) -> None:
    assert await adapter(linear, http, clock).check() == [
        "linear linear (team ENG): signed in as Tocsin; can create issues; can close issues; can reopen issues; "
        "webhooks verified"
    ]
    refused = await adapter(linear, http, clock, key="wrong").check()
    assert refused == ["linear linear (team ENG): cannot sign in (unauthorized)"]


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "Linear-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "Linear-Delivery": "d-1",
    }


async def test_a_webhook_is_verified_by_signature_and_timestamp_and_parsed(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    issue = linear.issues[made.key]
    before, issue.state = issue.state, linear.state_of_type("completed")
    body = linear.webhook_body(issue, before)
    assert tracker.verify_webhook(signed(body), body)
    assert not tracker.verify_webhook(signed(body, "forged"), body)
    assert not tracker.verify_webhook({"linear-delivery": "d-1"}, body)
    change = tracker.parse_webhook({"linear-delivery": "d-1"}, body)
    assert change is not None
    assert (change.issue_id, change.state, change.delivery_id) == (made.id, "closed", "d-1")


async def test_a_replayed_webhook_older_than_a_minute_is_refused(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    issue = linear.issues[made.key]
    fresh = linear.webhook_body(issue, issue.state, at=clock.at - 30)
    stale = linear.webhook_body(issue, issue.state, at=clock.at - 61)
    assert tracker.verify_webhook(signed(fresh), fresh)
    assert not tracker.verify_webhook(signed(stale), stale)


async def test_a_webhook_about_something_else_says_nothing(
    linear: LinearDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(linear, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    event = json.loads(linear.webhook_body(linear.issues[made.key], linear.issues[made.key].state))
    event["updatedFrom"] = {"title": "old title"}
    assert tracker.parse_webhook({}, json.dumps(event).encode()) is None
    event["type"] = "Comment"
    assert tracker.parse_webhook({}, json.dumps(event).encode()) is None
    assert tracker.parse_webhook({}, b"[]") is None


# ----- end to end: the "trackers" subscriber, the inbound route and the database, with the Linear double --

E2E_ENVIRON = {"LINEAR_KEY": "lin_api_test", "LINEAR_HOOK": "linear-hook-secret"}


def linear_policy(api_url: str) -> dict[str, Any]:
    tracker = {
        "kind": "linear",
        "team": "ENG",
        "api_key_env": "LINEAR_KEY",
        "api_url": api_url,
        "webhook_secret_env": "LINEAR_HOOK",
        "labels": {"SEV2": ["incident"]},
    }
    return {"trackers": {"lin": tracker}, "follow_ups": {"tracker": "lin", "create": "auto"}}


@pytest.fixture
async def tocsin(database_url: str, linear: LinearDouble) -> AsyncIterator[Rig]:
    async with database(database_url) as units, rig(units, linear, linear_policy(linear.api_url), E2E_ENVIRON) as made:
        linear.clock = lambda: made.clock().timestamp()  # webhooks stamped, and limits reset, on the test's clock
        yield made


async def test_a_follow_up_becomes_a_linear_issue_and_completing_it_in_linear_closes_the_follow_up(
    tocsin: Rig, linear: LinearDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident, "Raise the pool size")
    assert await tocsin.deliver() == 1
    made = linear.issues["ENG-1"]
    assert made.input["title"] == "Raise the pool size"
    assert made.input["labelIds"] == [linear.team["labels"]["nodes"][0]["id"]]
    assert f"{incident.reference}: Checkout errors (SEV2)" in made.input["description"]
    stored = await tocsin.issue(item.id)
    assert stored is not None and stored.key == "ENG-1"
    forged = await linear.move_by_person("ENG-1", "completed", secret="forged")
    replayed = await linear.move_by_person("ENG-1", "completed", at=tocsin.clock().timestamp() - 120)
    assert forged.statuses == [401] and replayed.statuses == [401]
    assert (await tocsin.stored(item.id)).is_open
    closed = await linear.move_by_person("ENG-1", "completed")
    assert closed.statuses == [202]
    done = await tocsin.stored(item.id)
    assert not done.is_open and done.done_by == "tracker:lin"
    assert await linear.send(closed) == 202  # the same delivery again changes nothing
    await linear.move_by_person("ENG-1", "unstarted")
    assert (await tocsin.stored(item.id)).is_open
    assert await event_kinds(tocsin.units, incident.id) == [
        "follow_up.created",
        "follow_up.closed",
        "follow_up.reopened",
    ]


async def test_marking_the_follow_up_done_in_slack_completes_the_linear_issue(
    tocsin: Rig, linear: LinearDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    assert await tocsin.follow_ups.mark_done(item.id, actor="U0ALICE", reply_to=None)
    await tocsin.deliver()
    assert linear.issues["ENG-1"].state["type"] == "completed"


async def test_an_unset_api_key_variable_is_named_when_the_adapter_is_built(http: aiohttp.ClientSession) -> None:
    checked = Policy.model_validate(linear_policy("https://api.linear.app/graphql"))
    with pytest.raises(ConfigError) as raised:
        build_trackers(checked, http, {})
    assert "LINEAR_KEY is not set" in str(raised.value)
    built = build_trackers(checked, http, E2E_ENVIRON)["lin"]
    assert isinstance(built, LinearIssues) and (built.team, built.webhook_secret) == ("ENG", "linear-hook-secret")


async def test_linear_answering_500_for_a_minute_is_retried_with_backoff_then_the_issue_is_made_once(
    tocsin: Rig, linear: LinearDouble
) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    linear.outage(500)
    for _ in range(60):
        await tocsin.deliver()
        tocsin.clock.advance(seconds=1)
    tries = len(linear.calls)
    assert 3 <= tries <= 8 and linear.issues == {}
    assert tocsin.errors("lin", "server_error") == tries
    linear.outage(None)
    tocsin.clock.advance(minutes=2)
    await tocsin.deliver()
    assert len(linear.issues) == 1


async def test_ratelimited_is_waited_out_until_linears_reset_without_calling_linear(
    tocsin: Rig, linear: LinearDouble
) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    linear.rate_limit(1, retry_after=60)
    await tocsin.deliver()
    assert len(linear.calls) == 1 and tocsin.errors("lin", "rate_limited") == 1
    for _ in range(5):
        tocsin.clock.advance(seconds=10)
        await tocsin.deliver()
    assert len(linear.calls) == 1  # not asked again before the reset
    tocsin.clock.advance(minutes=2)
    await tocsin.deliver()
    assert len(linear.issues) == 1


async def test_a_refused_linear_key_is_not_retried(database_url: str, linear: LinearDouble) -> None:
    environ = {**E2E_ENVIRON, "LINEAR_KEY": "lin_api_revoked"}
    async with database(database_url) as units, rig(units, linear, linear_policy(linear.api_url), environ) as tocsin:
        incident = await tocsin.incident()
        item = await tocsin.follow_up(incident, owner="U0BOB")
        await tocsin.deliver()
        for _ in range(5):
            tocsin.clock.advance(minutes=10)
            await tocsin.deliver()
        assert len(linear.calls) == 1 and tocsin.errors("lin", "unauthorized") == 1
        stored = await tocsin.issue(item.id)
        assert stored is not None and stored.failed_reason == "unauthorized"
