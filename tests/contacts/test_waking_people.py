"""Waking people end to end: a page goes Slack → push → phone as the person's rules say and a keypress on
the call acknowledges it; a provider that fails is retried, then the next method is tried at once; a rule
changed while a page runs does not change that page; a restart between two attempts sends each once.
The real app, the strict Slack double, and doubles of Twilio and ntfy that enforce their APIs."""

from __future__ import annotations

import logging

import pytest

from bot.domain.escalation import ACKNOWLEDGED, TRIGGERED
from bot.domain.incidents import TimelineKind
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, stored_timeline
from tests.contacts.conftest import (
    ALICE_PHONE,
    ALICE_TOPIC,
    Providers,
    contact_policy,
    free_port,
    metric,
    run_jobs,
    run_steps,
    start_public,
    stored_page,
)
from tests.slack_double import SlackDouble


async def contact_lines(tocsin: object) -> list[str]:
    timeline = await stored_timeline(tocsin, 1)  # type: ignore[arg-type]
    return [e.text for e in timeline if e.kind is TimelineKind.PAGE and " to <@U0ALICE>: " in e.text]


async def test_a_page_goes_slack_then_push_then_phone_and_a_keypress_acknowledges_it(
    double: SlackDouble,
    providers: Providers,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    tocsin = await start_public(start_tocsin, database_url, contact_policy(providers), clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    assert any("being paged" in m["text"] for m in double.dm_messages("U0ALICE"))  # Slack at once
    assert not providers.ntfy.messages and not providers.twilio.calls

    clock.advance(minutes=1)
    await run_jobs(tocsin)
    [push] = providers.ntfy.messages
    assert push.json["topic"] == ALICE_TOPIC and push.json["priority"] == 5
    [action] = push.json["actions"]
    assert action["action"] == "http" and "/contacts/ack/" in action["url"]
    assert not providers.twilio.calls

    clock.advance(minutes=2)
    await run_jobs(tocsin)
    [call] = providers.twilio.calls
    assert call.to == ALICE_PHONE
    assert any("SEV1" in said and "Checkout is failing" in said for said in call.says)

    answer = await providers.twilio.press(call.sid, "1")
    assert answer.status == 200 and answer.error_code is None
    assert "Acknowledged" in answer.text
    page = await stored_page(tocsin)
    assert page.status == ACKNOWLEDGED and page.acknowledged_by == "U0ALICE"
    assert await contact_lines(tocsin) == [
        "Push (ntfy) to <@U0ALICE>: delivered",
        "Phone call to <@U0ALICE>: delivered",
        "Phone call to <@U0ALICE>: answered",
    ]
    assert metric(tocsin, "voice", "answered") == 1 and metric(tocsin, "ntfy", "delivered") == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ALICE_PHONE not in logged and ALICE_TOPIC not in logged  # personal data is never logged in full


async def test_a_failing_provider_is_retried_then_the_next_method_is_tried_at_once(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_public(start_tocsin, database_url, contact_policy(providers), clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    for _ in range(3):
        providers.ntfy.fail_next(50001)  # ntfy answers 500, three times running
    clock.advance(minutes=1)
    await run_jobs(tocsin)
    assert not providers.twilio.calls
    for _ in range(2):  # tried again, quickly
        clock.advance(seconds=10)
        await run_jobs(tocsin)
    # gave up on push at 1m20s: the call, planned for 3m, is made at once
    assert len(providers.twilio.calls) == 1
    assert not providers.ntfy.messages
    assert await contact_lines(tocsin) == [
        "Push (ntfy) to <@U0ALICE>: failed",
        "Phone call to <@U0ALICE>: delivered",
    ]
    assert metric(tocsin, "ntfy", "failed") == 1
    clock.advance(minutes=5)
    await run_jobs(tocsin)
    assert len(providers.twilio.calls) == 1  # the call's own time passed: not made again


async def test_a_rule_change_during_a_running_page_leaves_that_page_as_it_was(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_public(start_tocsin, database_url, contact_policy(providers), clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    await double.slash_command("U0ALICE", double.channel_named("general").id, "oncall contact rules slack@0s")
    await run_jobs(tocsin)
    assert any("Your rules* (yours): `slack@0s`" in t for t in double.replies_to("U0ALICE"))
    clock.advance(minutes=3)
    await run_jobs(tocsin)
    assert len(providers.ntfy.messages) == 1 and len(providers.twilio.calls) == 1  # as when it started

    # a new page follows the new rules: Slack only
    await declare(double, tocsin, "declare sev1 Checkout is failing again")
    await run_steps(tocsin)
    clock.advance(minutes=5)
    await run_jobs(tocsin)
    assert len(providers.ntfy.messages) == 1 and len(providers.twilio.calls) == 1


async def test_a_restart_between_two_attempts_sends_each_once(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    port = free_port()
    policy = contact_policy(providers)
    first = await start_public(start_tocsin, database_url, policy, clock, port)
    await declare(double, first, "declare sev1 Checkout is failing")
    await run_steps(first)
    clock.advance(minutes=1)
    await run_jobs(first)
    assert len(providers.ntfy.messages) == 1
    await first.stop(drain_seconds=5)

    clock.advance(minutes=2)
    second = await start_public(start_tocsin, database_url, policy, clock, port)
    await run_jobs(second)
    await run_steps(second)
    await run_jobs(second)
    assert len(providers.ntfy.messages) == 1 and len(providers.twilio.calls) == 1
    tapped = await providers.ntfy.tap(providers.ntfy.messages[0].id)  # the link the first one sent still works
    assert tapped.status == 200
    assert (await stored_page(second)).status == ACKNOWLEDGED


async def test_a_sev3_never_phones(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    rules = [{"method": "ntfy", "after": "0s"}, {"method": "voice", "after": "1m", "min_severity": "SEV2"}]
    policy = contact_policy(providers, rules=rules)
    tocsin = await start_public(start_tocsin, database_url, policy, clock)
    channel = await declare(double, tocsin, "declare sev3 Checkout is slow")
    await double.slash_command("U0ALICE", channel.id, "page @alice")
    await run_steps(tocsin)
    assert len(providers.ntfy.messages) == 1  # at once
    clock.advance(minutes=2)
    await run_jobs(tocsin)
    assert not providers.twilio.calls
    assert (await stored_page(tocsin)).status == TRIGGERED
