"""The ntfy client against a double that enforces ntfy's publishing API: a page is an urgent message whose
Acknowledge button the phone app POSTs to Tocsin, tokens are sent as ntfy expects, refusals are not
retried and rate limits and server trouble are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.domain.contact_policy import NtfyMethod
from bot.runtime.contacts import ContactError, MissingCredential, Notice, NtfyClient
from tests.contact_doubles.ntfy_double import NtfyDouble
from tests.contacts.receiver import Receiver, receiver

TOPIC = "tocsin-alice-4f9c2a"


@pytest.fixture
async def ntfy() -> AsyncIterator[NtfyDouble]:
    async with NtfyDouble() as double:
        yield double


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


@pytest.fixture
async def tocsin() -> AsyncIterator[Receiver]:
    async with receiver() as made:
        yield made


def client(ntfy: NtfyDouble, session: aiohttp.ClientSession, **config: Any) -> NtfyClient:
    environ = config.pop("environ", {})
    return NtfyClient(NtfyMethod.model_validate({"url": ntfy.base_url, **config}), environ, session)


def page(ack_url: str | None = "https://tocsin.example/ack/p7?t=abc", link: str | None = None) -> Notice:
    return Notice("SEV1 INC-7: Checkout down", "You are paged (tier 1).", ack_url, "SEV1", link)


async def test_a_page_is_an_urgent_message_with_an_acknowledge_button(
    ntfy: NtfyDouble, session: aiohttp.ClientSession
) -> None:
    sent = await client(ntfy, session).publish(TOPIC, page())
    (message,) = ntfy.messages
    assert sent.provider_id == message.id and len(message.id) == 12
    stored = message.json
    assert (stored["topic"], stored["title"], stored["priority"]) == (TOPIC, "SEV1 INC-7: Checkout down", 5)
    assert stored["message"] == "You are paged (tier 1)." and stored["tags"] == ["rotating_light", "sev1"]
    (action,) = stored["actions"]
    assert (action["action"], action["label"], action["method"], action["clear"]) == (
        "http",
        "Acknowledge",
        "POST",
        True,
    )
    assert action["url"] == "https://tocsin.example/ack/p7?t=abc"
    assert message.authorization is None  # no token configured: none sent


async def test_tapping_acknowledge_posts_to_the_ack_url_and_clears_the_notification(
    ntfy: NtfyDouble, session: aiohttp.ClientSession, tocsin: Receiver
) -> None:
    sent = await client(ntfy, session).publish(TOPIC, page(tocsin.url("/contacts/ack/p7?t=abc")))
    tapped = await ntfy.tap(sent.provider_id, "Acknowledge")
    (arrival,) = tocsin.arrivals
    assert (arrival.method, arrival.url) == ("POST", tocsin.url("/contacts/ack/p7?t=abc"))
    assert tapped.status == 204 and ntfy.message(sent.provider_id).cleared


async def test_a_page_without_an_ack_url_has_no_button_and_a_link_opens_the_incident(
    ntfy: NtfyDouble, session: aiohttp.ClientSession
) -> None:
    await client(ntfy, session).publish(TOPIC, page(ack_url=None, link="https://slack.example/archives/C1"))
    stored = ntfy.messages[0].json
    assert stored["click"] == "https://slack.example/archives/C1"
    assert [(a["action"], a["label"]) for a in stored["actions"]] == [("view", "Open incident")]


async def test_a_token_is_sent_as_a_bearer_and_a_wrong_or_absent_one_is_refused(session: aiohttp.ClientSession) -> None:
    async with NtfyDouble(token="tk_good") as ntfy:
        good = client(ntfy, session, token_env="NTFY_TOKEN", environ={"NTFY_TOKEN": "tk_good"})
        await good.publish(TOPIC, page())
        assert ntfy.messages[0].authorization == "Bearer tk_good"
        wrong = client(ntfy, session, token_env="NTFY_TOKEN", environ={"NTFY_TOKEN": "tk_bad"})
        with pytest.raises(ContactError) as refused:
            await wrong.publish(TOPIC, page())
        with pytest.raises(ContactError) as anonymous:
            await client(ntfy, session).publish(TOPIC, page())
    assert (refused.value.reason, refused.value.retryable, refused.value.code) == ("unauthorized", False, 40101)
    assert (anonymous.value.reason, anonymous.value.retryable, anonymous.value.code) == ("forbidden", False, 40301)
    assert "tk_bad" not in str(refused.value) and len(ntfy.messages) == 1


def test_a_missing_token_variable_is_named() -> None:
    with pytest.raises(MissingCredential) as raised:
        NtfyClient(NtfyMethod(token_env="NTFY_TOKEN"), {}, None)  # type: ignore[arg-type]
    assert raised.value.variable == "NTFY_TOKEN" and "NTFY_TOKEN" in str(raised.value)


async def test_an_invalid_topic_is_refused_without_repeating_it(
    ntfy: NtfyDouble, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ContactError) as raised:
        await client(ntfy, session).publish("alice's phone", page())
    assert (raised.value.reason, raised.value.retryable, raised.value.code) == ("invalid", False, 40009)
    assert "alice" not in str(raised.value)


async def test_rate_limits_and_server_errors_are_retried(ntfy: NtfyDouble, session: aiohttp.ClientSession) -> None:
    ntfy.rate_limit_next(retry_after=30)
    ntfy.fail_next(50001)
    push = client(ntfy, session)
    with pytest.raises(ContactError) as limited:
        await push.publish(TOPIC, page())
    with pytest.raises(ContactError) as failed:
        await push.publish(TOPIC, page())
    assert (limited.value.reason, limited.value.retryable, limited.value.retry_after) == ("rate_limited", True, 30.0)
    assert (failed.value.reason, failed.value.retryable, failed.value.code) == ("server_error", True, 50001)
    await push.publish(TOPIC, page())
    assert len(ntfy.messages) == 1


async def test_the_double_refuses_what_ntfy_refuses(ntfy: NtfyDouble, session: aiohttp.ClientSession) -> None:
    async def publish(body: dict[str, Any]) -> tuple[int, Any]:
        async with session.post(ntfy.base_url + "/", json=body) as response:
            return response.status, (await response.json())["code"] if response.status >= 400 else None

    http = {"action": "http", "label": "Ack", "url": "https://t.example/a"}
    assert await publish({"topic": TOPIC, "priority": 6}) == (400, 40007)
    assert await publish({"topic": TOPIC, "prio": 5}) == (400, 40017)
    assert await publish({"topic": TOPIC, "actions": [http] * 4}) == (400, 40018)
    assert await publish({"topic": TOPIC, "actions": [{**http, "method": "GET", "body": "x"}]}) == (400, 40018)
    assert await publish({"topic": TOPIC, "actions": [{"action": "http", "label": "Ack"}]}) == (400, 40018)
    assert await publish({"topic": "docs"}) == (400, 40010)
    headers = {
        "Priority": "urgent",
        "Tags": "rotating_light",
        "Actions": "http, Ack, https://t.example/a?x=1, clear=true",
    }
    async with session.put(f"{ntfy.base_url}/{TOPIC}", data="body", headers=headers) as response:
        assert response.status == 200
    (stored,) = ntfy.messages
    assert stored.json["priority"] == 5 and stored.json["actions"][0]["url"] == "https://t.example/a?x=1"
    assert stored.json["actions"][0]["clear"] is True
