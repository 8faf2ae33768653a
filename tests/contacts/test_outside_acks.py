"""Acknowledging from outside Slack: an ntfy action, an e-mail link (GET shows a button, only its POST
acknowledges), a keypress, Pushover's receipt. A forged, replayed or expired acknowledgement is refused
(403/410, a plain message, one warning) and changes nothing."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.app import Tocsin
from bot.domain.escalation import ACKNOWLEDGED, TRIGGERED
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, eventually, settle
from tests.contact_doubles.base import Callback
from tests.contacts.conftest import (
    USER_KEY,
    Providers,
    contact_policy,
    metric,
    run_jobs,
    run_steps,
    start_public,
    stored_page,
)
from tests.slack_double import SlackDouble


async def paged(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> Tocsin:
    """alice paged for a SEV1, with a push at once and a call after a minute (made)."""
    rules = [{"method": "ntfy", "after": "0s"}, {"method": "voice", "after": "1m"}]
    tocsin = await start_public(start_tocsin, database_url, contact_policy(providers, rules=rules), clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    clock.advance(minutes=1)
    await run_jobs(tocsin)
    assert len(providers.ntfy.messages) == 1 and len(providers.twilio.calls) == 1
    return tocsin


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Tocsin's warnings (not Bolt's)."""
    return [r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("bot.")]


def ack_url(providers: Providers) -> str:
    [action] = providers.ntfy.messages[0].json["actions"]
    return str(action["url"])


async def test_an_ntfy_action_acknowledges_once_and_a_replay_is_refused(
    double: SlackDouble,
    providers: Providers,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tocsin = await paged(double, providers, start_tocsin, database_url, clock)
    tapped = await providers.ntfy.tap(providers.ntfy.messages[0].id)
    assert tapped.status == 200
    assert (await stored_page(tocsin)).status == ACKNOWLEDGED
    assert metric(tocsin, "ntfy", "answered") == 1
    caplog.clear()
    again = await providers.ntfy.tap(providers.ntfy.messages[0].id)
    assert again.status == 410 and "used already" in again.text
    assert [r.getMessage() for r in ours(caplog)] == ["contacts: an acknowledgement link refused (spent)"]
    assert metric(tocsin, "ntfy", "answered") == 1


async def test_an_email_link_shows_a_button_and_only_its_post_acknowledges(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await paged(double, providers, start_tocsin, database_url, clock)
    url = ack_url(providers)
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # a mail scanner follows the link first
            async with http.get(url) as shown:
                page_html = await shown.text()
                assert shown.status == 200 and '<form method="post">' in page_html
                assert "Checkout is failing" in page_html and "<script" not in page_html
                assert shown.headers["Referrer-Policy"] == "no-referrer"
        assert (await stored_page(tocsin)).status == TRIGGERED
        async with http.post(url) as done:
            assert done.status == 200
        assert (await stored_page(tocsin)).status == ACKNOWLEDGED
        async with http.get(url) as spent:
            assert spent.status == 410


async def test_a_forged_link_or_keypress_is_refused_and_changes_nothing(
    double: SlackDouble,
    providers: Providers,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tocsin = await paged(double, providers, start_tocsin, database_url, clock)
    base = f"http://127.0.0.1:{tocsin.port}"
    call = providers.twilio.calls[0]
    assert call.gather_action is not None
    caplog.clear()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/contacts/ack/not-a-token") as guessed:
            assert guessed.status == 403 and guessed.content_type == "text/plain"
        unsigned = {"CallSid": call.sid, "Digits": "1", "AccountSid": providers.twilio.account_sid}
        async with http.post(call.gather_action, data=unsigned) as forged:
            assert forged.status == 403
        wrong = {"X-Twilio-Signature": "c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ=="}
        async with http.post(call.gather_action, data=unsigned, headers=wrong) as forged_again:
            assert forged_again.status == 403
    # signed as Twilio signs, but for another call: its SID is not this attempt's
    other = providers.twilio.signed(call.gather_action, unsigned | {"CallSid": "CA" + "0" * 32})
    assert (await providers.twilio.post_form(other)).status == 403
    assert (await stored_page(tocsin)).status == TRIGGERED
    warnings = ours(caplog)
    assert len(warnings) == 4 and not any(r.exc_info for r in warnings)


async def test_a_keypress_after_the_page_was_acknowledged_in_slack_acknowledges_nothing(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await paged(double, providers, start_tocsin, database_url, clock)
    tapped = await providers.ntfy.tap(providers.ntfy.messages[0].id)  # answered by push first
    assert tapped.status == 200
    answer = await providers.twilio.press(providers.twilio.calls[0].sid, "1")
    assert answer.error_code is None and "no longer escalating" in answer.text
    assert metric(tocsin, "voice", "answered") == 0
    other_digit = await providers.twilio.press(providers.twilio.calls[0].sid, "7")
    assert other_digit.error_code is None


async def test_a_call_nobody_answers_moves_on_to_the_next_method_at_once(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    rules = [{"method": "voice", "after": "0s"}, {"method": "ntfy", "after": "5m"}]
    tocsin = await start_public(start_tocsin, database_url, contact_policy(providers, rules=rules), clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    [call] = providers.twilio.calls
    finished: Callback = await providers.twilio.finish_call(call.sid, "no-answer")
    assert finished.status == 204
    await run_jobs(tocsin)
    assert len(providers.ntfy.messages) == 1  # not five minutes later
    assert metric(tocsin, "voice", "failed") == 1


async def test_pushover_s_receipt_callback_acknowledges(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    rules = [{"method": "pushover", "after": "0s"}]
    policy = contact_policy(providers, rules=rules, contacts={"pushover": USER_KEY})
    tocsin = await start_public(start_tocsin, database_url, policy, clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    [message] = providers.pushover.messages
    assert message.priority == 2 and message.receipt and message.callback
    forged = Callback(message.callback, {"receipt": "r" * 30, "acknowledged": "1"}, {})
    assert (await providers.pushover.post_form(forged)).status == 403  # not this attempt's receipt
    assert (await stored_page(tocsin)).status == TRIGGERED
    answer = await providers.pushover.acknowledge(message.receipt)
    assert answer.status == 204
    assert (await stored_page(tocsin)).status == ACKNOWLEDGED
    assert metric(tocsin, "pushover", "answered") == 1


async def test_a_page_answered_elsewhere_stops_pushover_s_repeats(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    rules = [{"method": "ntfy", "after": "0s"}, {"method": "pushover", "after": "0s"}]
    policy = contact_policy(providers, rules=rules, contacts={"ntfy": "alice-pager", "pushover": USER_KEY})
    tocsin = await start_public(start_tocsin, database_url, policy, clock)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    [message] = providers.pushover.messages
    assert not message.cancelled
    assert (await providers.ntfy.tap(providers.ntfy.messages[0].id)).status == 200
    await settle(tocsin)
    await eventually(lambda: message.cancelled, within=30, what="the emergency message cancelled")
