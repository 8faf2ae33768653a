"""SMS and voice calls through Twilio's REST API (2010-04-01).

Calls: `POST {api_url}/2010-04-01/Accounts/{AccountSid}/Messages.json` (To, From, Body, StatusCallback)
and `…/Calls.json` (To, From, Twiml, StatusCallback), form-encoded, with HTTP Basic auth (the account SID
and auth token). A created resource is 201 with its JSON (`sid` SM… or CA…, `status` queued); an error is
Twilio's `{"code", "message", "more_info", "status"}`: 401 (20003) is unauthorized, 429 (20429) a rate
limit, a 5xx Twilio's trouble (both retried), any other 4xx refused (21211: the To number is not valid;
21610: the person replied STOP, so texts to them are refused until they reply START).

The call's TwiML is inline (Twilio's `Twiml` parameter, at most 4000 characters): a `<Gather>` of one
digit, posting to `gather_url`, reads the page and asks to press 1; without an answer, the call says
goodbye and ends. A call with nothing to answer (a verification code, a test) only reads its text.
Twilio posts the digit (`Digits`) to `gather_url`, signed in `X-Twilio-Signature`
(`signature_valid`); the answer to that request is TwiML too (`say_twiml`)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import aiohttp

from bot.domain.contact_policy import TwilioMethod
from bot.runtime.contacts.base import Answer, ContactError, Sent, call, credential, http_error
from bot.runtime.contacts.signatures import twilio_signature_valid

PROVIDER = "twilio"
API_VERSION = "2010-04-01"
SMS_MAX = 1600  # Twilio refuses longer bodies (21617)
TWIML_MAX = 4000  # Twilio refuses a longer `Twiml` parameter (32018)
TWIML_CONTENT_TYPE = "text/xml"
PROMPT = "Press 1 to acknowledge."
GOODBYE = "No answer was received. Goodbye."
XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
# Twilio's codes that mean more than "invalid" to whoever sends next
REASONS = {20003: "unauthorized", 21610: "unsubscribed", 20429: "rate_limited"}


class TwilioClient:
    """One Twilio account (its credentials from the environment variables the policy names), sending
    from the policy's number."""

    def __init__(self, config: TwilioMethod, environ: Mapping[str, str], session: aiohttp.ClientSession) -> None:
        """Read the account SID and auth token now: a missing one raises MissingCredential naming it."""
        self.config = config
        self.session = session
        self.account_sid = credential(environ, config.account_sid_env, PROVIDER)
        self._auth_token = credential(environ, config.auth_token_env, PROVIDER)
        self._base = f"{config.api_url.rstrip('/')}/{API_VERSION}/Accounts/{self.account_sid}"
        pair = f"{self.account_sid}:{self._auth_token}".encode()
        self._basic = "Basic " + base64.b64encode(pair).decode()  # HTTP Basic (RFC 7617)

    def __repr__(self) -> str:
        """No credentials."""
        return f"TwilioClient(api_url={self.config.api_url!r})"

    async def send_sms(self, to: str, text: str, *, status_callback: str | None = None) -> Sent:
        """Text `to` (E.164); Twilio posts the message's later statuses to `status_callback` if given."""
        form = {"To": to, "From": self.config.from_, "Body": _shorten(text, SMS_MAX)}
        if status_callback:
            form["StatusCallback"] = status_callback
        return Sent(await self._create("Messages.json", form))

    async def call(
        self, to: str, *, say: str, gather_url: str | None = None, status_callback: str | None = None
    ) -> Sent:
        """Ring `to` (E.164): the call reads `say`, asks to press 1 (posted to `gather_url`), then says
        goodbye; without `gather_url` (a verification code, a test) it reads `say` twice and hangs up. Twilio
        posts the call's end (completed, busy, no-answer, failed…) to `status_callback`."""
        twiml = call_twiml(say, gather_url) if gather_url is not None else read_twiml(say)
        form = {"To": to, "From": self.config.from_, "Twiml": twiml}
        if status_callback:
            form["StatusCallback"] = status_callback
        return Sent(await self._create("Calls.json", form))

    def signature_valid(self, url: str, params: Mapping[str, Any], signature: str) -> bool:
        """Whether a callback to `url` with these form parameters was signed by this account's Twilio."""
        return twilio_signature_valid(self._auth_token, url, params, signature)

    async def _create(self, resource: str, form: dict[str, str]) -> str:
        answer = await call(
            self.session,
            "POST",
            f"{self._base}/{resource}",
            provider=PROVIDER,
            data=form,
            headers={"Accept": "application/json", "Authorization": self._basic},
        )
        if not answer.ok:
            raise _error(answer)
        sid = answer.body.get("sid") if isinstance(answer.body, dict) else None
        if not isinstance(sid, str) or not sid:
            raise ContactError(PROVIDER, "bad_answer", retryable=True, status=answer.status)
        return sid


def call_twiml(say: str, gather_url: str) -> str:
    """The call's TwiML: a one-digit Gather posting to `gather_url` that reads `say` and the prompt (twice),
    then a goodbye; text and URL XML-escaped, `say` shortened so the whole fits Twilio's 4000 characters."""

    def twiml(text: str) -> str:
        prompt = f"<Say>{escape(PROMPT)}</Say>"
        gather = (
            f'<Gather input="dtmf" numDigits="1" timeout="8" action={quoteattr(gather_url)} method="POST">'
            f'<Say>{escape(text)}</Say>{prompt}<Pause length="1"/>{prompt}</Gather>'
        )
        return f"{XML_HEAD}<Response>{gather}<Say>{escape(GOODBYE)}</Say></Response>"

    document = twiml(say)
    if len(document) > TWIML_MAX:
        # escaping lengthens the text by up to five times its length (`&amp;`): cut to what surely fits
        room = max(0, (TWIML_MAX - len(twiml(""))) // 5)
        document = twiml(_shorten(say, room))
    return document


def read_twiml(say: str) -> str:
    """A call's TwiML that only reads `say` (twice, for whoever missed the start) and hangs up: nothing to
    press, so no Gather; shortened so the whole fits Twilio's 4000 characters."""

    def twiml(text: str) -> str:
        said = f"<Say>{escape(text)}</Say>"
        return f'{XML_HEAD}<Response>{said}<Pause length="1"/>{said}<Hangup/></Response>'

    document = twiml(say)
    if len(document) > TWIML_MAX:
        room = max(0, (TWIML_MAX - len(twiml(""))) // 10)  # said twice, each up to five times longer escaped
        document = twiml(_shorten(say, room))
    return document


def say_twiml(text: str) -> str:
    """TwiML that says `text` and hangs up: the answer to Twilio's post of the pressed digit."""
    return f"{XML_HEAD}<Response><Say>{escape(text)}</Say><Hangup/></Response>"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _error(answer: Answer) -> ContactError:
    """Twilio's error body `{code, message, more_info, status}` as a ContactError (its message is left out:
    it repeats the numbers)."""
    body = answer.body if isinstance(answer.body, dict) else {}
    code = body.get("code") if isinstance(body.get("code"), int) else None
    reason = REASONS.get(code) if code is not None else None
    if answer.status in (401, 429) or answer.status >= 500:
        reason = None  # the status says it already
    return http_error(PROVIDER, answer, code=code, reason=reason)
