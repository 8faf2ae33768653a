"""The Jira Cloud adapter against the Jira double: issues made with an ADF description, assigned when
the owner's e-mail finds one user, closed and reopened by workflow transitions; rate limits, a refused
token and a failing site as the tracker errors; webhooks verified by their signature and parsed."""

from __future__ import annotations

import base64
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
from bot.domain.tracker_issues import NewIssue, TrackerBusy, TrackerRefused, TrackerUnreachable
from bot.runtime.trackers import build_trackers
from bot.runtime.trackers.jira import JiraCloud
from tests.service.fakes import event_kinds
from tests.trackers.adf_check import adf_problems
from tests.trackers.jira_double import JiraDouble
from tests.trackers.rig import Rig, database, rig

SECRET = "jira-webhook-secret"
BODY = (
    "Add an alert on the queue depth\n\nFollow-up of INC-7: Checkout down (SEV1)\n"
    "Incident: https://tocsin.example/incidents/7\nOwner: Ada\n\n_Made by Tocsin; closing this issue marks it done._"
)


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.at = 1_764_800_000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
async def jira() -> AsyncIterator[JiraDouble]:
    double = await JiraDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def clock() -> Clock:
    return Clock()


def adapter(jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock, *, token: str | None = None) -> JiraCloud:
    return JiraCloud(
        name="jira",
        http=http,
        webhook_secret=SECRET,
        now=clock,
        url=jira.url,
        project="OPS",
        email=jira.email,
        token=token or jira.token,
    )


async def test_an_issue_is_made_with_an_adf_description_labels_and_due_date(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    made = await adapter(jira, http, clock).create_issue(
        NewIssue(
            title="Add an alert on the queue depth", body=BODY, labels=("incident", "sev 1"), due_on=date(2026, 12, 24)
        )
    )
    assert made.key == "OPS-1"
    assert made.url == f"{jira.url}/browse/OPS-1"
    fields = jira.issue("OPS-1").fields
    assert adf_problems(fields["description"]) == []
    links = [
        mark["attrs"]["href"]
        for block in fields["description"]["content"]
        for node in block.get("content", [])
        for mark in node.get("marks", [])
        if mark["type"] == "link"
    ]
    assert links == ["https://tocsin.example/incidents/7"]
    assert fields["labels"] == ["incident", "sev-1"]
    assert fields["duedate"] == "2026-12-24"
    assert fields["issuetype"] == {"name": "Task"}
    assert "assignee" not in fields


async def test_components_are_sent_by_name_and_an_unknown_one_is_refused_as_jira_does(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(jira, http, clock)
    await tracker.create_issue(NewIssue(title="Raise the pool size", body=BODY, components=("Platform",)))
    assert jira.issue("OPS-1").fields["components"] == [{"name": "Platform"}]
    with pytest.raises(TrackerRefused):
        await tracker.create_issue(NewIssue(title="Raise the pool size", body=BODY, components=("Nowhere",)))


async def test_the_double_refuses_a_plain_string_description_as_jira_does(jira: JiraDouble) -> None:
    async with aiohttp.ClientSession() as session:
        plain = {
            "fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x", "description": "x"}
        }
        auth = {"Authorization": "Basic " + base64.b64encode(f"{jira.email}:{jira.token}".encode()).decode()}
        async with session.post(f"{jira.url}/rest/api/3/issue", json=plain, headers=auth) as response:
            assert response.status == 400
            assert "description" in (await response.json())["errors"]
    assert jira.issues == {}


async def test_the_owner_is_assigned_when_their_email_finds_exactly_one_user(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    ada = jira.add_user("ada@example.com", "Ada Lovelace")
    jira.add_user("grace@example.com", "Grace Hopper")
    made = await adapter(jira, http, clock).create_issue(
        NewIssue(title="t", body=BODY, assignee_email="ada@example.com")
    )
    assert jira.issue(made.key).fields["assignee"] == {"accountId": ada.account_id}


async def test_an_owner_jira_cannot_find_leaves_the_issue_unassigned(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    jira.add_user("ada@example.com", "Ada Lovelace")
    made = await adapter(jira, http, clock).create_issue(
        NewIssue(title="t", body=BODY, assignee_email="bob@example.com")
    )
    assert "assignee" not in jira.issue(made.key).fields
    assert "Owner: Ada" in json.dumps(jira.issue(made.key).fields["description"])


async def test_closing_and_reopening_move_the_issue_through_its_workflow(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(jira, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert await tracker.state_of(made.id) == "open"
    await tracker.set_state(made.id, "closed")
    assert jira.issue(made.key).status == "Done"
    assert await tracker.state_of(made.id) == "closed"
    await tracker.set_state(made.id, "closed")  # already so: no transition
    await tracker.set_state(made.id, "open")
    assert jira.issue(made.key).status == "To Do"
    assert jira.issue(made.key).history == ["Done", "To Do"]


async def test_a_rate_limit_is_busy_with_jiras_retry_after_and_nothing_is_called_before_it(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(jira, http, clock)
    jira.rate_limit(1, retry_after=30)
    with pytest.raises(TrackerBusy) as raised:
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert (raised.value.reason, raised.value.retry_after) == ("rate_limited", 30)
    calls = len(jira.calls)
    with pytest.raises(TrackerBusy):
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert len(jira.calls) == calls  # held back until Retry-After has passed
    clock.at += 31
    assert (await tracker.create_issue(NewIssue(title="t", body=BODY))).key == "OPS-1"


async def test_a_refused_token_is_refused_not_busy(jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock) -> None:
    with pytest.raises(TrackerRefused) as raised:
        await adapter(jira, http, clock, token="wrong").create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "unauthorized"
    assert "wrong" not in str(raised.value)


async def test_a_failing_site_is_busy_until_it_recovers_and_a_gone_one_unreachable(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(jira, http, clock)
    jira.outage(500)
    with pytest.raises(TrackerBusy) as raised:
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "server_error"
    jira.outage(None)
    assert (await tracker.create_issue(NewIssue(title="t", body=BODY))).key == "OPS-1"
    await jira.stop()
    with pytest.raises(TrackerUnreachable):
        await tracker.state_of("10001")


async def test_an_invalid_field_is_refused_with_jiras_messages_as_a_note(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = JiraCloud(
        name="jira", http=http, now=clock, url=jira.url, project="NOPE", email=jira.email, token=jira.token
    )
    with pytest.raises(TrackerRefused) as raised:
        await tracker.create_issue(NewIssue(title="t", body=BODY))
    assert raised.value.reason == "invalid_request"
    assert any("project" in note for note in raised.value.__notes__)


async def test_check_says_what_the_credentials_can_do(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    where = f"jira jira (OPS at {jira.url})"
    assert await adapter(jira, http, clock).check() == [
        f"{where}: signed in as Tocsin; can create issues; can close and reopen issues; can assign issues; "
        "webhooks verified"
    ]
    assert await adapter(jira, http, clock, token="wrong").check() == [f"{where}: cannot sign in (unauthorized)"]
    elsewhere = JiraCloud(name="jira", http=http, now=clock, url=jira.url, project="SECRET", email=jira.email, token="")
    elsewhere.token = jira.token
    (line,) = await elsewhere.check()
    assert line.endswith("cannot see the project (forbidden)")


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": "d-1"}


async def test_a_webhook_is_verified_by_its_signature_and_parsed(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(jira, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    issue = jira.issue(made.key)
    issue.status = "Done"
    body = jira.webhook_body(issue, "To Do")
    assert tracker.verify_webhook(signed(body), body)
    assert not tracker.verify_webhook(signed(body, "forged"), body)
    assert not tracker.verify_webhook(signed(body), body + b" ")
    assert not tracker.verify_webhook({}, body)
    change = tracker.parse_webhook({"x-atlassian-webhook-identifier": "d-1"}, body)
    assert change is not None
    assert (change.issue_id, change.state, change.delivery_id) == (made.id, "closed", "d-1")
    issue.status = "To Do"
    reopened = tracker.parse_webhook(signed(body), jira.webhook_body(issue, "Done"))
    assert reopened is not None
    assert reopened.state == "open"


async def test_a_webhook_not_about_a_status_change_says_nothing(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = adapter(jira, http, clock)
    made = await tracker.create_issue(NewIssue(title="t", body=BODY))
    event = json.loads(jira.webhook_body(jira.issue(made.key), "To Do"))
    event["changelog"]["items"] = [{"field": "summary", "fieldId": "summary", "toString": "new"}]
    assert tracker.parse_webhook({}, json.dumps(event).encode()) is None
    event["webhookEvent"] = "jira:issue_created"
    assert tracker.parse_webhook({}, json.dumps(event).encode()) is None
    assert tracker.parse_webhook({}, b"not json") is None


async def test_without_a_secret_no_webhook_is_believed(
    jira: JiraDouble, http: aiohttp.ClientSession, clock: Clock
) -> None:
    tracker = JiraCloud(
        name="jira", http=http, now=clock, url=jira.url, project="OPS", email=jira.email, token=jira.token
    )
    body = b'{"webhookEvent": "jira:issue_updated"}'
    assert not tracker.verify_webhook(signed(body, ""), body)


# ----- end to end: the "trackers" subscriber, the inbound route and the database, with the Jira double --

E2E_ENVIRON = {"JIRA_EMAIL": "tocsin@example.com", "JIRA_TOKEN": "jira-token", "JIRA_HOOK": "jira-hook-secret"}


def jira_policy(url: str) -> dict[str, Any]:
    tracker = {
        "kind": "jira",
        "url": url,
        "project": "OPS",
        "email_env": "JIRA_EMAIL",
        "token_env": "JIRA_TOKEN",
        "webhook_secret_env": "JIRA_HOOK",
        "labels": {"SEV2": ["incident", "sev2"]},
    }
    return {"trackers": {"jira": tracker}, "follow_ups": {"tracker": "jira", "create": "auto"}}


@pytest.fixture
async def tocsin(database_url: str, jira: JiraDouble) -> AsyncIterator[Rig]:
    async with database(database_url) as units, rig(units, jira, jira_policy(jira.url), E2E_ENVIRON) as made:
        yield made


async def test_a_follow_up_becomes_a_jira_issue_and_closing_it_in_jira_closes_the_follow_up(
    tocsin: Rig, jira: JiraDouble
) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident, "Raise the pool size")
    assert await tocsin.deliver() == 1
    made = jira.issue("OPS-1")
    assert made.fields["summary"] == "Raise the pool size" and made.fields["labels"] == ["incident", "sev2"]
    assert adf_problems(made.fields["description"]) == []
    stored = await tocsin.issue(item.id)
    assert stored is not None and (stored.key, stored.url) == ("OPS-1", f"{jira.url}/browse/OPS-1")
    forged = await jira.transition_by_person("OPS-1", "Done", secret="forged")
    assert forged.statuses == [401] and (await tocsin.stored(item.id)).is_open
    closed = await jira.transition_by_person("OPS-1", "Done")
    assert closed.statuses == [202]
    done = await tocsin.stored(item.id)
    assert not done.is_open and done.done_by == "tracker:jira"
    assert await jira.send(closed) == 202  # the same delivery again changes nothing
    await jira.transition_by_person("OPS-1", "To Do")
    assert (await tocsin.stored(item.id)).is_open
    assert await event_kinds(tocsin.units, incident.id) == [
        "follow_up.created",
        "follow_up.closed",
        "follow_up.reopened",
    ]


async def test_marking_the_follow_up_done_in_slack_closes_the_jira_issue(tocsin: Rig, jira: JiraDouble) -> None:
    incident = await tocsin.incident()
    item = await tocsin.follow_up(incident)
    await tocsin.deliver()
    assert await tocsin.follow_ups.mark_done(item.id, actor="U0ALICE", reply_to=None)
    await tocsin.deliver()
    assert jira.issue("OPS-1").status == "Done"


async def test_unset_credential_variables_are_named_when_the_adapter_is_built(http: aiohttp.ClientSession) -> None:
    checked = Policy.model_validate(jira_policy("https://example.atlassian.net"))
    with pytest.raises(ConfigError) as raised:
        build_trackers(checked, http, {"JIRA_EMAIL": "tocsin@example.com"})
    assert "JIRA_TOKEN is not set" in str(raised.value) and "JIRA_EMAIL" not in str(raised.value)
    built = build_trackers(checked, http, E2E_ENVIRON)["jira"]
    assert isinstance(built, JiraCloud) and built.webhook_secret == "jira-hook-secret"


async def test_jira_answering_500_for_a_minute_is_retried_with_backoff_then_the_issue_is_made_once(
    tocsin: Rig, jira: JiraDouble
) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    jira.outage(500)
    for _ in range(60):  # a minute, a second at a time: the backoff decides when it tries
        await tocsin.deliver()
        tocsin.clock.advance(seconds=1)
    tries = len(jira.calls)
    assert 3 <= tries <= 8 and jira.issues == {}
    assert tocsin.errors("jira", "server_error") == tries
    jira.outage(None)
    tocsin.clock.advance(minutes=2)
    await tocsin.deliver()
    assert len(jira.issues) == 1


async def test_a_jira_429_is_waited_out_for_its_retry_after_without_calling_jira(tocsin: Rig, jira: JiraDouble) -> None:
    incident = await tocsin.incident()
    await tocsin.follow_up(incident)
    jira.rate_limit(1, retry_after=60)
    await tocsin.deliver()
    assert len(jira.calls) == 1 and tocsin.errors("jira", "rate_limited") == 1
    for _ in range(5):
        tocsin.clock.advance(seconds=10)
        await tocsin.deliver()
    assert len(jira.calls) == 1  # not asked again before Retry-After
    tocsin.clock.advance(minutes=2)
    await tocsin.deliver()
    assert len(jira.issues) == 1


async def test_a_refused_jira_token_is_not_retried(database_url: str, jira: JiraDouble) -> None:
    environ = {**E2E_ENVIRON, "JIRA_TOKEN": "revoked"}
    async with database(database_url) as units, rig(units, jira, jira_policy(jira.url), environ) as tocsin:
        incident = await tocsin.incident()
        item = await tocsin.follow_up(incident, owner="U0BOB")
        await tocsin.deliver()
        for _ in range(5):
            tocsin.clock.advance(minutes=10)
            await tocsin.deliver()
        assert len(jira.calls) == 1 and tocsin.errors("jira", "unauthorized") == 1
        stored = await tocsin.issue(item.id)
        assert stored is not None and stored.failed_reason == "unauthorized"
