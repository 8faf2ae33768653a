"""The Pushover client against a double that enforces Pushover's Message and Receipts APIs: a page is an
emergency message (repeated until acknowledged) whose acknowledgement Pushover posts to Tocsin's callback,
repeats are cancelled when the page is acknowledged elsewhere, and refusals, the monthly limit and
Pushover's trouble are told apart."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.domain.contact_policy import PushoverMethod
from bot.runtime.contacts import ContactError, MissingCredential, Notice, PushoverClient
from tests.contact_doubles.pushover_double import APP_TOKEN, USER_KEY, PushoverDouble
from tests.contacts.receiver import Receiver, receiver

ENVIRON = {"PUSHOVER_TOKEN": APP_TOKEN}
PAGE = Notice("SEV1 INC-7: Checkout down", "You are paged (tier 1).", None, "SEV1", "https://slack.example/C1")


@pytest.fixture
async def pushover() -> AsyncIterator[PushoverDouble]:
    async with PushoverDouble() as double:
        yield double


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


@pytest.fixture
async def tocsin() -> AsyncIterator[Receiver]:
    async with receiver() as made:
        yield made


def client(
    pushover: PushoverDouble, session: aiohttp.ClientSession, environ: dict[str, str] = ENVIRON, now: float = 0.0
) -> PushoverClient:
    config = PushoverMethod(api_url=pushover.base_url)
    return PushoverClient(config, environ, session, now=(lambda: now) if now else time.time)


async def test_a_page_is_an_emergency_message_with_its_callback_and_a_receipt(
    pushover: PushoverDouble, session: aiohttp.ClientSession
) -> None:
    push = client(pushover, session)
    sent = await push.send_emergency(USER_KEY, PAGE, callback_url="https://tocsin.example/pushover/ack")
    (message,) = pushover.messages
    assert sent.provider_id == message.receipt and len(sent.provider_id) == 30
    assert (message.user, message.priority, message.retry, message.expire) == (USER_KEY, 2, 60, 3600)
    assert (message.title, message.message) == ("SEV1 INC-7: Checkout down", "You are paged (tier 1).")
    assert message.callback == "https://tocsin.example/pushover/ack" and message.url == "https://slack.example/C1"
    assert push.limits is not None and (push.limits.limit, push.limits.remaining) == (10000, 9999)


async def test_acknowledging_in_the_app_posts_pushovers_callback_form(
    pushover: PushoverDouble, session: aiohttp.ClientSession, tocsin: Receiver
) -> None:
    push = client(pushover, session)
    sent = await push.send_emergency(USER_KEY, PAGE, callback_url=tocsin.url("/contacts/pushover/callback"))
    assert not (await push.receipt(sent.provider_id)).acknowledged
    await pushover.acknowledge(sent.provider_id, device="pixel")
    (arrival,) = tocsin.arrivals
    assert arrival.form["receipt"] == sent.provider_id and arrival.form["acknowledged"] == "1"
    assert (arrival.form["acknowledged_by"], arrival.form["acknowledged_by_device"]) == (USER_KEY, "pixel")
    assert int(arrival.form["acknowledged_at"]) > 0
    receipt = await push.receipt(sent.provider_id)
    assert receipt.acknowledged and receipt.acknowledged_by == USER_KEY and not receipt.expired


async def test_a_page_acknowledged_elsewhere_cancels_the_repeats(
    pushover: PushoverDouble, session: aiohttp.ClientSession
) -> None:
    push = client(pushover, session)
    sent = await push.send_emergency(USER_KEY, PAGE, callback_url=None)
    await push.cancel(sent.provider_id)
    assert pushover.emergency(sent.provider_id).cancelled
    with pytest.raises(ContactError) as unknown:
        await push.cancel("x" * 30)
    assert (unknown.value.reason, unknown.value.retryable) == ("not_found", False)


async def test_emergency_timings_out_of_pushovers_bounds_are_refused(
    pushover: PushoverDouble, session: aiohttp.ClientSession
) -> None:
    push = client(pushover, session)
    with pytest.raises(ContactError) as too_often:
        await push.send_emergency(USER_KEY, PAGE, callback_url=None, retry=10)
    with pytest.raises(ContactError) as too_long:
        await push.send_emergency(USER_KEY, PAGE, callback_url=None, expire=20000)
    assert (too_often.value.reason, too_often.value.retryable, too_often.value.code) == ("invalid", False, "retry")
    assert (too_long.value.code, too_long.value.status) == ("expire", 400)
    await push.send_emergency(USER_KEY, PAGE, callback_url=None, retry=30, expire=10800)  # the bounds themselves
    assert len(pushover.messages) == 1


async def test_an_invalid_token_is_unauthorized_and_an_unknown_user_invalid(
    pushover: PushoverDouble, session: aiohttp.ClientSession
) -> None:
    wrong = client(pushover, session, {"PUSHOVER_TOKEN": "b" * 30})
    with pytest.raises(ContactError) as unauthorized:
        await wrong.send_emergency(USER_KEY, PAGE, callback_url=None)
    with pytest.raises(ContactError) as unknown:
        await client(pushover, session).send("u" * 30, PAGE)
    assert (unauthorized.value.reason, unauthorized.value.retryable, unauthorized.value.code) == (
        "unauthorized",
        False,
        "token",
    )
    assert "b" * 30 not in str(unauthorized.value)
    assert (unknown.value.reason, unknown.value.code) == ("invalid", "user") and "u" * 30 not in str(unknown.value)


def test_a_missing_token_variable_is_named() -> None:
    with pytest.raises(MissingCredential) as raised:
        PushoverClient(PushoverMethod(), {"PUSHOVER_TOKEN": "  "}, None)  # type: ignore[arg-type]
    assert raised.value.variable == "PUSHOVER_TOKEN"


async def test_a_spent_monthly_limit_waits_until_its_reset_and_trouble_is_retried(
    pushover: PushoverDouble, session: aiohttp.ClientSession
) -> None:
    push = client(pushover, session, now=pushover.reset - 3600)
    await push.send(USER_KEY, PAGE)
    pushover.spend_limit()
    with pytest.raises(ContactError) as limited:
        await push.send_emergency(USER_KEY, PAGE, callback_url=None)
    assert (limited.value.reason, limited.value.retryable, limited.value.retry_after) == ("rate_limited", True, 3600)
    pushover.remaining = 5
    pushover.fail_next(503)
    with pytest.raises(ContactError) as failed:
        await push.send_emergency(USER_KEY, PAGE, callback_url=None)
    assert (failed.value.reason, failed.value.retryable) == ("server_error", True)


async def test_a_normal_message_is_sent_at_normal_priority(
    pushover: PushoverDouble, session: aiohttp.ClientSession
) -> None:
    sent = await client(pushover, session).send(USER_KEY, Notice("Tocsin", "Your code is 123456", None, "SEV4"))
    (message,) = pushover.messages
    assert (message.priority, message.receipt, message.request) == (0, None, sent.provider_id)
