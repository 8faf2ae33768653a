"""A Pushover API double: messages (emergency priority too), receipts, and the acknowledgement callback.

What it enforces, as Pushover documents it:
- `POST /1/messages.json`, form-encoded: `token` (the application's; otherwise 400 `{"token": "invalid",
  "errors": ["application token is invalid"], "status": 0, "request"}`), `user` (a known user key, else
  `"user": "invalid"`), `message` (required, at most 1024 characters), `title` (at most 250), `priority`
  -2 to 2; priority 2 needs `retry` of at least 30 and `expire` of at most 10800 seconds, and `callback`, if
  given, is an http(s) URL. Success is 200 `{"status": 1, "request"}`, with a 30-character `receipt` for
  priority 2.
- Every answer carries `X-Limit-App-Limit`, `X-Limit-App-Remaining` and `X-Limit-App-Reset` (epoch seconds,
  the month's end); a spent limit is 429. `spend_limit()` spends it; `fail_next(status)` answers one
  request so (a 5xx: Pushover's trouble).
- `GET /1/receipts/{receipt}.json?token=` and `POST /1/receipts/{receipt}/cancel.json` (token in the form);
  an unknown receipt is 404 `{"receipt": "not found", …}`.

`acknowledge(receipt)` is the person tapping Acknowledge in the app: the double marks the receipt and POSTs
`receipt`, `acknowledged=1`, `acknowledged_at`, `acknowledged_by` and `acknowledged_by_device` to the
message's callback URL, as Pushover does.
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.contact_doubles.base import Callback, HttpDouble

APP_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
USER_KEY = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
MONTH = 30 * 24 * 3600
INVALID = {
    "token": "application token is invalid",
    "user": "user identifier is not a valid user, group, or subscribed user key",
    "message": "message cannot be blank",
    "priority": "priority is invalid",
    "retry": "retry must be supplied with priority=2 and be at least 30 seconds",
    "expire": "expire must be supplied with priority=2 and be at most 10800 seconds",
    "callback": "callback is not a valid URL",
    "title": "title is too long (maximum is 250 characters)",
}


@dataclass
class PushoverMessage:
    """A message the double accepted."""

    user: str
    title: str
    message: str
    priority: int
    request: str
    receipt: str | None = None
    retry: int | None = None
    expire: int | None = None
    callback: str | None = None
    url: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    acknowledged_at: int = 0
    acknowledged_by: str = ""
    cancelled: bool = False


def _key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(30))


class PushoverDouble(HttpDouble):
    """Pushover with one application (`token`) and the users it may reach (`users`)."""

    def __init__(self, *, token: str = APP_TOKEN, users: tuple[str, ...] = (USER_KEY,), limit: int = 10000) -> None:
        """Serve messages and receipts."""
        super().__init__()
        self.token, self.users = token, set(users)
        self.limit, self.remaining = limit, limit
        self.reset = int(time.time()) + MONTH
        self.messages: list[PushoverMessage] = []
        self.app.router.add_post("/1/messages.json", self._messages)
        self.app.router.add_get("/1/receipts/{receipt}.json", self._receipt)
        self.app.router.add_post("/1/receipts/{receipt}/cancel.json", self._cancel)

    def fail_next(self, status: int = 500) -> None:
        """Answer the next request `status`."""
        self.fail_with(status, {"status": 0, "errors": ["an internal error occurred"], "request": str(uuid.uuid4())})

    def spend_limit(self) -> None:
        """The application's monthly messages are spent: messages are 429 until `reset`."""
        self.remaining = 0

    def emergency(self, receipt: str) -> PushoverMessage:
        """The emergency message with this receipt."""
        return next(m for m in self.messages if m.receipt == receipt)

    # ----- the API -------------------------------------------------------------------------------------
    def _limits(self) -> dict[str, str]:
        return {
            "X-Limit-App-Limit": str(self.limit),
            "X-Limit-App-Remaining": str(self.remaining),
            "X-Limit-App-Reset": str(self.reset),
        }

    def _reply(self, request: web.Request, form: Any, body: dict[str, Any], status: int = 200) -> web.Response:
        body = {"request": str(uuid.uuid4()), **body}
        return self.answer(request, form, body, status=status, headers=self._limits())

    def _invalid(self, request: web.Request, form: Any, fields: list[str], status: int = 400) -> web.Response:
        body = {name: "invalid" for name in fields} | {"errors": [INVALID[name] for name in fields], "status": 0}
        return self._reply(request, form, body, status)

    async def _form(self, request: web.Request) -> dict[str, str]:
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return {}
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    async def _messages(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if (failed := self.failure(request, form)) is not None:
            return failed
        if form.get("token") != self.token:
            return self._invalid(request, form, ["token"])
        if self.remaining <= 0:
            spent = {"errors": ["application is over its message limit"], "status": 0}
            return self._reply(request, form, spent, 429)
        problems = [name for name, bad in self._problems(form).items() if bad]
        if problems:
            return self._invalid(request, form, problems)
        self.remaining -= 1
        priority = int(form.get("priority", "0"))
        stored = PushoverMessage(form["user"], form.get("title", ""), form["message"], priority, str(uuid.uuid4()))
        stored.form, stored.url = form, form.get("url")
        body: dict[str, Any] = {"status": 1, "request": stored.request}
        if priority == 2:
            stored.receipt = body["receipt"] = _key()
            stored.retry, stored.expire = int(form["retry"]), int(form["expire"])
            stored.callback = form.get("callback")
        self.messages.append(stored)
        return self._reply(request, form, body)

    def _problems(self, form: dict[str, str]) -> dict[str, bool]:
        priority = form.get("priority", "0")
        emergency = priority == "2"
        callback = form.get("callback")
        return {
            "user": form.get("user") not in self.users,
            "message": not form.get("message") or len(form["message"]) > 1024,
            "title": len(form.get("title", "")) > 250,
            "priority": priority not in {"-2", "-1", "0", "1", "2"},
            "retry": emergency and not (form.get("retry", "").isdigit() and int(form["retry"]) >= 30),
            "expire": emergency and not (form.get("expire", "").isdigit() and 0 < int(form["expire"]) <= 10800),
            "callback": callback is not None and not callback.startswith(("http://", "https://")),
        }

    def _known(self, request: web.Request, form: Any) -> tuple[PushoverMessage | None, web.Response | None]:
        receipt = request.match_info["receipt"]
        message = next((m for m in self.messages if m.receipt == receipt), None)
        if message is None:
            body = {"receipt": "not found", "errors": ["receipt not found; may be invalid or expired"], "status": 0}
            return None, self._reply(request, form, body, 404)
        return message, None

    async def _receipt(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        if (failed := self.failure(request, query)) is not None:
            return failed
        if query.get("token") != self.token:
            return self._invalid(request, query, ["token"])
        message, missing = self._known(request, query)
        if message is None:
            assert missing is not None
            return missing
        assert message.expire is not None
        expires_at = int(time.time()) + message.expire
        return self._reply(
            request,
            query,
            {
                "status": 1,
                "acknowledged": 1 if message.acknowledged_at else 0,
                "acknowledged_at": message.acknowledged_at,
                "acknowledged_by": message.acknowledged_by,
                "acknowledged_by_device": "phone" if message.acknowledged_at else "",
                "last_delivered_at": int(time.time()),
                "expired": 0,
                "expires_at": expires_at,
                "called_back": 1 if message.acknowledged_at and message.callback else 0,
                "called_back_at": message.acknowledged_at if message.callback else 0,
            },
        )

    async def _cancel(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if (failed := self.failure(request, form)) is not None:
            return failed
        if form.get("token") != self.token:
            return self._invalid(request, form, ["token"])
        message, missing = self._known(request, form)
        if message is None:
            assert missing is not None
            return missing
        message.cancelled = True
        return self._reply(request, form, {"status": 1})

    # ----- the person --------------------------------------------------------------------------------
    async def acknowledge(self, receipt: str, *, user_key: str | None = None, device: str = "phone") -> Callback:
        """The person taps Acknowledge: Pushover marks the receipt and posts to its callback URL."""
        message = self.emergency(receipt)
        assert not message.cancelled, "a cancelled emergency message can no longer be acknowledged"
        assert message.callback, "the emergency message was sent without a callback URL"
        message.acknowledged_at = int(time.time())
        message.acknowledged_by = user_key or message.user
        form = {
            "receipt": receipt,
            "acknowledged": "1",
            "acknowledged_at": str(message.acknowledged_at),
            "acknowledged_by": message.acknowledged_by,
            "acknowledged_by_device": device,
        }
        return await self.post_form(Callback(message.callback, form, {"User-Agent": "Pushover"}))
