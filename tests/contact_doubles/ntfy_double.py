"""An ntfy server double: publishing (as JSON to `/`, or to `/<topic>` with headers) and the phone app's
action buttons.

What it enforces, as ntfy documents it (and its server code does):
- Topics match `^[-_A-Za-z0-9]{1,64}$` and are not reserved words (400, code 40009 / 40010).
- With a `token`, publishing needs `Authorization: Bearer <token>` or Basic with the token as password:
  no credentials is 403 (40301), wrong ones 401 (40101).
- Priority 1 to 5 (or, in headers, min/low/default/high/max/urgent); anything else is 40007.
- Actions: at most 3; `action` view, broadcast or http; a `label`; a `url` for view and http; http's
  `method` defaults to POST and a GET or HEAD has no body; `clear` a boolean (40018 otherwise).
- JSON publishing takes ntfy's documented fields only (the double is stricter than ntfy, which ignores
  an unknown field: a typo such as `prio` fails here, 40017).
- Errors are `{"code", "http", "error", "link"}`; `rate_limit_next()` answers 429 (42901); `fail_next`.
- The answer is the stored message: `id`, `time`, `expires`, `event: "message"`, `topic`, … (actions with
  their own `id`).

`tap(message_id, label)` does what the ntfy app does when the person taps an `http` action: it sends the
action's method to its URL with its headers and body (and clears the notification when `clear`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.contact_doubles.base import Callback, HttpDouble

TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
SIMPLE_KEY = re.compile(r"^([-.\w]+)\s*=\s*(.*)$")
RESERVED = {"docs", "static", "file", "app", "account", "settings", "signup", "login", "v1"}
PRIORITIES = {"1": 1, "min": 1, "2": 2, "low": 2, "3": 3, "default": 3, "4": 4, "high": 4, "5": 5, "max": 5}
PRIORITIES["urgent"] = 5
JSON_FIELDS = {
    "topic", "message", "title", "tags", "priority", "actions", "click", "attach", "markdown", "icon",
    "filename", "delay", "email", "call", "sequence_id",
}  # fmt: skip
ACTION_FIELDS = {"action", "label", "url", "method", "headers", "body", "clear", "intent", "extras"}
ERRORS = {
    40007: (400, "invalid priority parameter"),
    40009: (400, "invalid request: topic invalid"),
    40010: (400, "invalid request: topic name is disallowed"),
    40017: (400, "invalid request: request body must be message JSON"),
    40018: (400, "invalid request: actions invalid"),
    40101: (401, "unauthorized"),
    40301: (403, "forbidden"),
    42901: (429, "limit reached: too many requests, please be nice"),
    50001: (500, "internal server error"),
}


class Invalid(Exception):
    """A published message ntfy refuses (its error code)."""

    def __init__(self, code: int) -> None:
        """Keep the code."""
        super().__init__(code)
        self.code = code


@dataclass
class NtfyMessage:
    """A message the double stored, as ntfy answered it, and the actions tapped on it."""

    json: dict[str, Any]
    authorization: str | None
    cleared: bool = False
    taps: list[Callback] = field(default_factory=list)

    @property
    def id(self) -> str:
        """Its id."""
        return str(self.json["id"])


def ntfy_error(code: int) -> dict[str, Any]:
    """ntfy's error body for `code`."""
    status, text = ERRORS[code]
    return {"code": code, "http": status, "error": text, "link": "https://ntfy.sh/docs/publish/"}


class NtfyDouble(HttpDouble):
    """One ntfy server; with `token`, its topics need it."""

    def __init__(self, *, token: str | None = None) -> None:
        """Serve publishing."""
        super().__init__()
        self.token = token
        self.messages: list[NtfyMessage] = []
        self.app.router.add_post("/", self._publish_json)
        self.app.router.add_route("POST", "/{topic}", self._publish_headers)
        self.app.router.add_route("PUT", "/{topic}", self._publish_headers)

    def fail_next(self, code: int = 50001) -> None:
        """Answer the next publish with ntfy's error `code` (e.g. 50001, 40101)."""
        self.fail_with(ERRORS[code][0], ntfy_error(code))

    def rate_limit_next(self, *, retry_after: int | None = None) -> None:
        """Answer the next publish 429 (42901), with `Retry-After` when given."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.fail_with(429, ntfy_error(42901), headers)

    def message(self, message_id: str) -> NtfyMessage:
        """The stored message with this id."""
        return next(m for m in self.messages if m.id == message_id)

    # ----- publishing ----------------------------------------------------------------------------------
    def _refused(self, request: web.Request, body: Any) -> web.Response | None:
        if self.token is not None:
            given = request.headers.get("Authorization")
            if given is None:
                return self._error(request, body, 40301)
            if not _authorizes(given, self.token):
                return self._error(request, body, 40101)
        return self.failure(request, body)

    def _error(self, request: web.Request, body: Any, code: int) -> web.Response:
        return self.answer(request, body, ntfy_error(code), status=ERRORS[code][0])

    async def _publish_json(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return self._error(request, raw.decode(errors="replace"), 40017)
        if (refused := self._refused(request, body)) is not None:
            return refused
        try:
            if not isinstance(body, dict) or set(body) - JSON_FIELDS or not isinstance(body.get("topic"), str):
                raise Invalid(40017)
            priority = body.get("priority", 3)
            if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 5:
                raise Invalid(40007)
            tags = body.get("tags", [])
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise Invalid(40017)
            message = self._store(request, body["topic"], body, priority, tags, _actions(body.get("actions", [])))
        except Invalid as invalid:
            return self._error(request, body, invalid.code)
        return self.answer(request, body, message)

    async def _publish_headers(self, request: web.Request) -> web.Response:
        text = (await request.read()).decode()
        headers = request.headers
        if (refused := self._refused(request, text)) is not None:
            return refused
        try:
            priority = PRIORITIES.get(_first(headers, "X-Priority", "Priority", "prio", "p") or "3")
            if priority is None:
                raise Invalid(40007)
            tags = [t.strip() for t in (_first(headers, "X-Tags", "Tags", "tag", "ta") or "").split(",") if t.strip()]
            actions_header = _first(headers, "X-Actions", "Actions", "Action")
            actions = _actions(_parse_actions(actions_header) if actions_header else [])
            fields = {"message": text, "title": _first(headers, "X-Title", "Title", "t"),
                      "click": _first(headers, "X-Click", "Click")}  # fmt: skip
            message = self._store(request, request.match_info["topic"], fields, priority, tags, actions)
        except Invalid as invalid:
            return self._error(request, text, invalid.code)
        return self.answer(request, text, message)

    def _store(
        self,
        request: web.Request,
        topic: str,
        fields: dict[str, Any],
        priority: int,
        tags: list[str],
        actions: list[dict[str, Any]],
    ) -> dict[str, Any]:
        if not TOPIC.match(topic):
            raise Invalid(40009)
        if topic in RESERVED:
            raise Invalid(40010)
        now = int(time.time())
        message_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
        stored: dict[str, Any] = {"id": message_id, "time": now, "expires": now + 43200, "event": "message"}
        stored |= {"topic": topic, "message": fields.get("message") or "triggered"}
        stored |= {k: fields[k] for k in ("title", "click") if fields.get(k)}
        stored |= {"priority": priority} if priority != 3 else {}
        stored |= {"tags": tags} if tags else {}
        stored |= {"actions": actions} if actions else {}
        self.messages.append(NtfyMessage(stored, request.headers.get("Authorization")))
        return stored

    # ----- the phone app -------------------------------------------------------------------------------
    async def tap(self, message_id: str, label: str = "Acknowledge") -> Callback:
        """Tap the message's action button `label`, as the ntfy app does (http actions only)."""
        message = self.message(message_id)
        action = next(a for a in message.json.get("actions", []) if a["label"] == label)
        assert action["action"] == "http", f"a {action['action']} action opens something on the phone"
        assert self._session is not None
        headers = {"User-Agent": "ntfy/1.0 (Android)", **action.get("headers", {})}
        body = action.get("body") or None
        async with self._session.request(action["method"], action["url"], headers=headers, data=body) as response:
            tapped = Callback(action["url"], {}, headers, response.status, response.content_type, await response.text())
        if action.get("clear") and 200 <= tapped.status < 300:
            message.cleared = True  # the app clears the notification only when the request succeeded
        message.taps.append(tapped)
        self.callbacks.append(tapped)
        return tapped


def _authorizes(given: str, token: str) -> bool:
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "bearer":
        return secrets.compare_digest(value, token)
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(password, token)
    return False


def _first(headers: Any, *names: str) -> str | None:
    return next((headers[n] for n in names if n in headers), None)


def _actions(actions: Any) -> list[dict[str, Any]]:
    """The actions as ntfy validates and stores them (with an id each); Invalid(40018) otherwise."""
    if not isinstance(actions, list) or len(actions) > 3:
        raise Invalid(40018)
    stored = []
    for action in actions:
        if not isinstance(action, dict) or set(action) - ACTION_FIELDS:
            raise Invalid(40018)
        kind = str(action.get("action", "")).lower()
        method = str(action.get("method") or "POST").upper()
        if kind not in ("view", "broadcast", "http") or not action.get("label"):
            raise Invalid(40018)
        if kind in ("view", "http") and not action.get("url"):
            raise Invalid(40018)
        if kind == "http" and method in ("GET", "HEAD") and action.get("body"):
            raise Invalid(40018)
        if not isinstance(action.get("clear", False), bool):
            raise Invalid(40018)
        shown = {"id": secrets.token_hex(5), **action, "action": kind, "clear": action.get("clear", False)}
        stored.append(shown | ({"method": method} if kind == "http" else {}))
    return stored


def _parse_actions(header: str) -> list[dict[str, Any]]:
    """The `Actions` header: a JSON array, or ntfy's simple form `http, Label, url, method=POST, clear=true;
    …` (values without quotes, commas or semicolons: enough for the double)."""
    if header.strip().startswith("["):
        try:
            parsed = json.loads(header)
        except ValueError as exc:
            raise Invalid(40018) from exc
        return parsed if isinstance(parsed, list) else [parsed]
    actions = []
    for part in filter(None, (p.strip() for p in header.split(";"))):
        action: dict[str, Any] = {}
        for position, section in enumerate(s.strip() for s in part.split(",")):
            keyed = SIMPLE_KEY.match(section)
            key, value = (keyed[1], keyed[2]) if keyed else (["action", "label", "url"][min(position, 2)], section)
            if key.startswith("headers."):
                action.setdefault("headers", {})[key.removeprefix("headers.")] = value.strip()
            else:
                action[key] = value.strip()
        if "clear" in action:
            action["clear"] = str(action["clear"]).lower() in ("true", "yes", "1")
        actions.append(action)
    return actions
