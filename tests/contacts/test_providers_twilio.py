"""The Twilio client against a double that enforces Twilio's REST API: texts and calls are created as
Twilio documents them, refusals are not retried and Twilio's trouble is, the call's TwiML reads the page
(escaped) and asks for 1, and the pressed digit comes back signed so Tocsin can tell Twilio from a forger."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from multidict import MultiDict

from bot.domain.contact_policy import TwilioMethod
from bot.runtime.contacts import ContactError, MissingCredential, TwilioClient, say_twiml, twilio_signature
from tests.contact_doubles.twilio_double import ACCOUNT_SID, AUTH_TOKEN, NUMBER, TwilioDouble
from tests.contacts.receiver import Arrival, Receiver, receiver

ENVIRON = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
ALICE = "+447700900123"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioDouble]:
    async with TwilioDouble() as double:
        yield double


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


@pytest.fixture
async def tocsin() -> AsyncIterator[Receiver]:
    async with receiver() as made:
        yield made


def client(twilio: TwilioDouble, session: aiohttp.ClientSession, environ: dict[str, str] = ENVIRON) -> TwilioClient:
    config = TwilioMethod.model_validate({"from": NUMBER, "api_url": twilio.base_url})
    return TwilioClient(config, environ, session)


async def test_a_text_goes_from_the_policy_number_and_returns_its_sid(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    sent = await client(twilio, session).send_sms(
        ALICE, "SEV1 INC-7: Checkout down", status_callback="https://t.example/s"
    )
    (message,) = twilio.messages
    assert sent.provider_id == message.sid and message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.to, message.from_, message.body) == (ALICE, NUMBER, "SEV1 INC-7: Checkout down")
    assert message.status_callback == "https://t.example/s"


async def test_a_text_longer_than_twilio_takes_is_shortened_not_refused(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    await client(twilio, session).send_sms(ALICE, "x" * 2000)
    assert len(twilio.messages[0].body) == 1600 and twilio.messages[0].body.endswith("…")


async def test_wrong_credentials_are_unauthorized_not_retried_and_never_shown(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    wrong = ENVIRON | {"TWILIO_AUTH_TOKEN": "0" * 32}
    with pytest.raises(ContactError) as raised:
        await client(twilio, session, wrong).send_sms(ALICE, "hello")
    error = raised.value
    assert (error.reason, error.retryable, error.code, error.status) == ("unauthorized", False, 20003, 401)
    assert "0" * 32 not in str(error) and ACCOUNT_SID not in str(error)
    assert twilio.messages == []


def test_a_missing_credential_names_its_variable_not_a_value() -> None:
    config = TwilioMethod.model_validate({"from": NUMBER})
    with pytest.raises(MissingCredential) as raised:
        TwilioClient(config, {"TWILIO_ACCOUNT_SID": ACCOUNT_SID}, None)  # type: ignore[arg-type]
    assert raised.value.variable == "TWILIO_AUTH_TOKEN" and not raised.value.retryable
    assert "TWILIO_AUTH_TOKEN" in str(raised.value) and ACCOUNT_SID not in str(raised.value)


async def test_an_invalid_number_is_refused_and_the_error_does_not_repeat_it(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ContactError) as raised:
        await client(twilio, session).send_sms("0770 0900 123", "hello")
    assert (raised.value.reason, raised.value.retryable, raised.value.code) == ("invalid", False, 21211)
    assert "0900" not in str(raised.value)


async def test_a_number_that_replied_stop_is_unsubscribed_not_retried(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    twilio.fail_next(400, 21610)
    with pytest.raises(ContactError) as raised:
        await client(twilio, session).send_sms(ALICE, "hello")
    assert (raised.value.reason, raised.value.retryable) == ("unsubscribed", False)


async def test_twilios_trouble_and_rate_limits_are_retried_with_its_delay(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    twilio.fail_next(503, 20500)
    twilio.rate_limit_next(retry_after=7)
    twilio.rate_limit_next()
    sms = client(twilio, session)
    outcomes = []
    for _ in range(3):
        with pytest.raises(ContactError) as raised:
            await sms.send_sms(ALICE, "hello")
        outcomes.append((raised.value.reason, raised.value.retryable, raised.value.retry_after, raised.value.code))
    assert outcomes == [
        ("server_error", True, None, 20500),
        ("rate_limited", True, 7.0, 20429),
        ("rate_limited", True, None, 20429),
    ]
    await sms.send_sms(ALICE, "hello")  # and then it goes
    assert len(twilio.messages) == 1


async def test_no_answer_from_twilio_is_unreachable_and_retried(session: aiohttp.ClientSession) -> None:
    async with TwilioDouble() as gone:
        config = TwilioMethod.model_validate({"from": NUMBER, "api_url": gone.base_url})
    with pytest.raises(ContactError) as raised:
        await TwilioClient(config, ENVIRON, session).call(ALICE, say="hi", gather_url="https://t.example/g")
    assert (raised.value.reason, raised.value.retryable) == ("unreachable", True)
    assert "127.0.0.1" not in str(raised.value)


async def test_a_call_reads_the_page_escaped_and_asks_for_1(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    say = 'SEV1 incident: "Checkout <500s> & refunds"'
    sent = await client(twilio, session).call(ALICE, say=say, gather_url="https://t.example/g?page=7&k=a")
    (call,) = twilio.calls
    assert sent.provider_id == call.sid and call.sid.startswith("CA")
    assert call.says[0] == say  # parsed back: the XML carried it escaped
    assert "&lt;500s&gt; &amp; refunds" in call.twiml and "<500s>" not in call.twiml
    assert "Press 1 to acknowledge." in call.says and call.says[-1].endswith("Goodbye.")
    assert (call.gather_action, call.gather_method) == ("https://t.example/g?page=7&k=a", "POST")


async def test_a_very_long_page_still_fits_twilios_twiml_limit(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    await client(twilio, session).call(ALICE, say="&" * 5000, gather_url="https://t.example/g")
    assert len(twilio.calls[0].twiml) <= 4000 and twilio.calls[0].says[0].startswith("&&&")


async def test_a_call_with_nothing_to_press_only_reads_its_text(
    twilio: TwilioDouble, session: aiohttp.ClientSession
) -> None:
    say = "Your Tocsin code is 1 2 3 4 5 6. <Read twice> & then hang up"
    await client(twilio, session).call(ALICE, say="&" * 5000)
    await client(twilio, session).call(ALICE, say=say)
    long, code = twilio.calls
    assert len(long.twiml) <= 4000 and long.says[0].startswith("&&&")
    assert code.says == [say, say]  # no prompt, no goodbye: there is nothing to answer
    assert code.gather_action is None and "<Gather" not in code.twiml and code.twiml.endswith("<Hangup/></Response>")


async def test_pressing_1_comes_back_signed_and_the_client_tells_it_from_a_forgery(
    twilio: TwilioDouble, session: aiohttp.ClientSession, tocsin: Receiver
) -> None:
    voice = client(twilio, session)
    verdicts: list[bool] = []

    async def answer(arrival: Arrival) -> web.Response:
        verdicts.append(voice.signature_valid(arrival.url, arrival.form, arrival.headers["X-Twilio-Signature"]))
        return web.Response(text=say_twiml("Acknowledged. Thank you."), content_type="text/xml")

    tocsin.reply = answer
    sent = await voice.call(ALICE, say="SEV2: API errors", gather_url=tocsin.url("/contacts/twilio/gather?page=7"))
    pressed = await twilio.press(sent.provider_id, digits="1")
    assert (pressed.status, pressed.error_code) == (200, None)  # TwiML, as Twilio needs
    (arrival,) = tocsin.arrivals
    assert arrival.form["Digits"] == "1" and arrival.form["CallSid"] == sent.provider_id
    assert arrival.form["To"] == ALICE and arrival.form["AccountSid"] == ACCOUNT_SID
    assert verdicts == [True]
    # a forger who knows everything but the auth token
    forged = twilio_signature("not-the-token", arrival.url, arrival.form)
    assert not voice.signature_valid(arrival.url, arrival.form, forged)
    assert not voice.signature_valid(arrival.url, arrival.form | {"Digits": "2"}, arrival.headers["X-Twilio-Signature"])
    tampered = arrival.url.replace("page=7", "page=8")
    assert not voice.signature_valid(tampered, arrival.form, arrival.headers["X-Twilio-Signature"])
    assert not voice.signature_valid(arrival.url, arrival.form, "")


async def test_an_answer_that_is_not_twiml_is_what_twilio_would_report(
    twilio: TwilioDouble, session: aiohttp.ClientSession, tocsin: Receiver
) -> None:
    async def answer(arrival: Arrival) -> web.Response:
        return web.json_response({"ok": True})

    tocsin.reply = answer
    sent = await client(twilio, session).call(ALICE, say="hi", gather_url=tocsin.url("/g"))
    assert (await twilio.press(sent.provider_id)).error_code == 12300


def test_the_signature_is_twilios_documented_one_with_or_without_the_default_port() -> None:
    # the example of Twilio's security guide and its helper libraries' tests: token, URL, form, signature
    token, url = "12345", "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309"}
    params |= {"To": "+18005551212"}
    assert twilio_signature(token, url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = MultiDict([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")])
    repeated.add("Digits", "1234")
    assert twilio_signature(token, url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    config = TwilioMethod.model_validate({"from": NUMBER})
    voice = TwilioClient(config, {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": token}, None)  # type: ignore[arg-type]
    signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert voice.signature_valid(url, params, signature)
    assert voice.signature_valid("https://mycompany.com:443/myapp.php?foo=1&bar=2", params, signature)
    assert not voice.signature_valid("http://mycompany.com/myapp.php?foo=1&bar=2", params, signature)
    assert not voice.signature_valid("https://mycompany.com:99999/x", params, signature)


async def test_status_callbacks_are_signed_too(
    twilio: TwilioDouble, session: aiohttp.ClientSession, tocsin: Receiver
) -> None:
    voice = client(twilio, session)
    text = await voice.send_sms(ALICE, "hello", status_callback=tocsin.url("/contacts/twilio/status"))
    call = await voice.call(ALICE, say="hi", gather_url=tocsin.url("/g"), status_callback=tocsin.url("/s"))
    await twilio.finish_message(text.provider_id, "undelivered", error_code=30003)
    await twilio.finish_call(call.provider_id, "no-answer")
    delivered, ended = tocsin.arrivals
    assert (delivered.form["MessageStatus"], delivered.form["ErrorCode"]) == ("undelivered", "30003")
    assert ended.form["CallStatus"] == "no-answer"
    assert all(voice.signature_valid(a.url, a.form, a.headers["X-Twilio-Signature"]) for a in tocsin.arrivals)
