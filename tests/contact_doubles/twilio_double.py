"""A Twilio REST API double (2010-04-01): the Messages and Calls resources, and the callbacks Twilio makes.

What it enforces, as Twilio documents it:
- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and `/Calls.json`, form-encoded, with HTTP Basic
  auth (AccountSid:AuthToken). Wrong or missing credentials: 401 with code 20003; another account's path
  with good credentials: 404 with 20404. Errors are `{"code", "message", "more_info", "status"}`.
- Messages: `To` required (21604) and E.164 (21211); `From` required (21603), one of the account's numbers
  (21606); `Body` required (21602), at most 1600 characters (21617); `StatusCallback` an http(s) URL
  (21609). Calls: `To` required (21201) and E.164 (21211); `From` required (21213) and the account's
  (21210); `Url`, `Twiml` or `ApplicationSid` required (21205); `Twiml` at most 4000 characters (32018).
  The double is stricter than Twilio in one place: TwiML that does not parse is refused when the call is
  created (12100), where Twilio would fail the call when it connects.
- A created resource is 201 with its JSON: `sid` "SM…"/"CA…" (34 characters), `status` "queued".
- `fail_next(status, code)` and `rate_limit_next()` (429, code 20429) answer the next request so.

Callbacks, signed with `X-Twilio-Signature` (base64 HMAC-SHA1 of the URL and the sorted parameters under
the auth token), form-encoded, as Twilio sends them:
- `press(call_sid, digits)`: the person answers and presses keys: POST to the call's `<Gather action>`
  (CallSid, AccountSid, From, To, Digits, CallStatus in-progress…). Tocsin must answer TwiML (200,
  text/xml or application/xml, a `<Response>` document); the Callback records `error_code` 11200 (not
  2xx), 12300 (content type) or 12100 (not TwiML) otherwise, as Twilio's debugger would.
- `finish_call(call_sid, status)` and `finish_message(sid, status)`: the StatusCallback of a call's end
  (completed, busy, no-answer, failed, canceled) or a message's status (sent, delivered, undelivered…).
"""

from __future__ import annotations

import base64
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from bot.runtime.contacts.signatures import twilio_signature
from tests.contact_doubles.base import Callback, HttpDouble

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
NUMBER = "+15005550006"
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",  # noqa: E501
    21609: "Invalid StatusCallback",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21201: "No 'To' number is specified",
    21205: "Url parameter is required.",
    21210: "'From' phone number not verified",
    21211: "Invalid 'To' Phone Number",
    21213: "No 'From' number is specified",
    32018: "Twiml size exceeded maximum allowed value of 4000 characters",
    12100: "Document parse failure",
}


@dataclass
class TwilioMessage:
    """A message the double accepted."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    status: str = "queued"


@dataclass
class TwilioCall:
    """A call the double accepted, with what its TwiML says and where its Gather posts."""

    sid: str
    to: str
    from_: str
    twiml: str
    says: list[str]
    gather_action: str | None
    gather_method: str
    status_callback: str | None
    status: str = "queued"
    answers: list[Callback] = field(default_factory=list)


def twilio_error(code: int, status: int) -> dict[str, Any]:
    """Twilio's error body."""
    return {
        "code": code,
        "message": MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioDouble(HttpDouble):
    """One Twilio account (`account_sid`, `auth_token`) owning `numbers`."""

    def __init__(
        self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, numbers: tuple[str, ...] = (NUMBER,)
    ) -> None:
        """Serve the account's Messages and Calls."""
        super().__init__()
        self.account_sid, self.auth_token, self.numbers = account_sid, auth_token, set(numbers)
        self.messages: list[TwilioMessage] = []
        self.calls: list[TwilioCall] = []
        base = "/2010-04-01/Accounts/{account}"
        self.app.router.add_post(f"{base}/Messages.json", self._create_message)
        self.app.router.add_post(f"{base}/Calls.json", self._create_call)

    # ----- knobs ----------------------------------------------------------------------------------------
    def fail_next(self, status: int = 500, code: int = 20500) -> None:
        """Answer the next request `status` with Twilio's error `code`."""
        self.fail_with(status, twilio_error(code, status))

    def rate_limit_next(self, *, retry_after: int | None = None) -> None:
        """Answer the next request 429 (20429), with `Retry-After` when given."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.fail_with(429, twilio_error(20429, 429), headers)

    # ----- the API -------------------------------------------------------------------------------------
    async def _guard(self, request: web.Request) -> tuple[dict[str, str], web.Response | None]:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if _basic_auth(request.headers.get("Authorization", "")) != (self.account_sid, self.auth_token):
            return form, self._error(request, form, 20003, 401)
        if request.match_info["account"] != self.account_sid:
            return form, self._error(request, form, 20404, 404)
        return form, self.failure(request, form)

    def _error(self, request: web.Request, form: dict[str, str], code: int, status: int = 400) -> web.Response:
        return self.answer(request, form, twilio_error(code, status), status=status)

    def _resource(self, kind: str, sid: str, form: dict[str, str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC))
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form["From"],
            "status": "queued",
            "api_version": "2010-04-01",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/{kind}/{sid}.json",
        }

    async def _create_message(self, request: web.Request) -> web.Response:
        form, refused = await self._guard(request)
        if refused is not None:
            return refused
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        callback = form.get("StatusCallback")
        problem = (
            21604 if not to else 21211 if not E164.match(to)
            else 21603 if not sender else 21606 if sender not in self.numbers
            else 21602 if not body else 21617 if len(body) > 1600
            else 21609 if callback is not None and not _http_url(callback)
            else None
        )  # fmt: skip
        if problem is not None:
            return self._error(request, form, problem)
        sid = "SM" + secrets.token_hex(16)
        self.messages.append(TwilioMessage(sid, to, sender, body, callback))
        resource = self._resource("Messages", sid, form) | {"body": body, "num_segments": str(1 + len(body) // 160)}
        return self.answer(request, form, resource | {"error_code": None, "error_message": None}, status=201)

    async def _create_call(self, request: web.Request) -> web.Response:
        form, refused = await self._guard(request)
        if refused is not None:
            return refused
        to, sender, twiml = form.get("To", ""), form.get("From", ""), form.get("Twiml")
        callback = form.get("StatusCallback")
        problem = (
            21201 if not to else 21211 if not E164.match(to)
            else 21213 if not sender else 21210 if sender not in self.numbers
            else 21205 if not (twiml or form.get("Url") or form.get("ApplicationSid"))
            else 32018 if twiml is not None and len(twiml) > 4000
            else 21609 if callback is not None and not _http_url(callback)
            else None
        )  # fmt: skip
        if problem is not None:
            return self._error(request, form, problem)
        try:
            says, action, method = _read_twiml(twiml or "<Response/>")
        except ET.ParseError:
            return self._error(request, form, 12100)
        sid = "CA" + secrets.token_hex(16)
        self.calls.append(TwilioCall(sid, to, sender, twiml or "", says, action, method, callback))
        return self.answer(request, form, self._resource("Calls", sid, form), status=201)

    # ----- Twilio calling back -------------------------------------------------------------------------
    def signed(self, url: str, form: dict[str, str]) -> Callback:
        """A callback to `url` with `form`, signed as Twilio signs it."""
        headers = {
            "X-Twilio-Signature": twilio_signature(self.auth_token, url, form),
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        return Callback(url, form, headers)

    def call(self, call_sid: str) -> TwilioCall:
        """The call with this SID."""
        return next(c for c in self.calls if c.sid == call_sid)

    def message(self, sid: str) -> TwilioMessage:
        """The message with this SID."""
        return next(m for m in self.messages if m.sid == sid)

    def _call_form(self, call: TwilioCall, status: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
        }

    async def press(self, call_sid: str, digits: str = "1") -> Callback:
        """The person answers the call and presses `digits`: Twilio posts them to the Gather's action."""
        call = self.call(call_sid)
        assert call.gather_action, "the call's TwiML has no <Gather action=…>"
        assert call.gather_method == "POST", "the double only posts Gather results"
        call.status = "in-progress"
        form = self._call_form(call, "in-progress") | {"Digits": digits, "FinishedOnKey": ""}
        answer = await self.post_form(self.signed(call.gather_action, form))
        answer.error_code = _twiml_error(answer)
        call.answers.append(answer)
        return answer

    async def finish_call(self, call_sid: str, status: str = "completed", *, duration: int = 20) -> Callback:
        """The call ends (`completed`, `busy`, `no-answer`, `failed`, `canceled`): its StatusCallback."""
        call = self.call(call_sid)
        call.status = status
        assert call.status_callback, "the call was created without a StatusCallback"
        form = self._call_form(call, status) | {"CallbackSource": "call-progress-events", "SequenceNumber": "0"}
        if status == "completed":
            form["CallDuration"] = str(duration)
        return await self.post_form(self.signed(call.status_callback, form))

    async def finish_message(self, sid: str, status: str = "delivered", *, error_code: int | None = None) -> Callback:
        """The message reaches `status` (`sent`, `delivered`, `undelivered`, `failed`): its StatusCallback."""
        message = self.message(sid)
        message.status = status
        assert message.status_callback, "the message was created without a StatusCallback"
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return await self.post_form(self.signed(message.status_callback, form))


def _basic_auth(header: str) -> tuple[str, str] | None:
    """HTTP Basic's (user, password), or None when the header is not Basic."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return None
    return (user, password) if colon else None


def _http_url(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _read_twiml(twiml: str) -> tuple[list[str], str | None, str]:
    """Every <Say>'s text in order, and the first <Gather>'s action and method."""
    root = ET.fromstring(twiml)  # noqa: S314 - TwiML the code under test made, parsed in a test
    if root.tag != "Response":
        raise ET.ParseError("the root element is not <Response>")
    says = [(say.text or "") for say in root.iter("Say")]
    gather = next(root.iter("Gather"), None)
    if gather is None:
        return says, None, "POST"
    return says, gather.get("action"), gather.get("method", "POST").upper()


def _twiml_error(answer: Callback) -> int | None:
    """The Twilio error an app's answer to a webhook would raise (None: valid TwiML)."""
    if not 200 <= answer.status < 300:
        return 11200
    if answer.content_type not in ("text/xml", "application/xml"):
        return 12300
    try:
        root = ET.fromstring(answer.text)  # noqa: S314 - the app's answer, parsed in a test
    except ET.ParseError:
        return 12100
    return None if root.tag == "Response" else 12100
