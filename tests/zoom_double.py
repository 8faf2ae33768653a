"""A Zoom double: the part of Zoom's API a Server-to-Server OAuth app uses to make meetings, as strict as
Zoom about what it checks.

- `POST /oauth/token?grant_type=account_credentials&account_id=…` needs HTTP Basic client_id:client_secret
  (else 401 `{"reason": "Invalid client_id or client_secret", "error": "invalid_client"}`); another grant
  type is 400 `unsupported_grant_type`, another account 400 `invalid_request`. It answers
  `{access_token, token_type: "bearer", expires_in: 3599, scope}`.
- `POST /v2/users/{userId}/meetings` needs `Authorization: Bearer <a token it issued>`; a missing, unknown
  or expired one is 401 `{"code": 124, "message": "Invalid access token."}` (or "Access token is
  expired."). The body is JSON with an optional `topic` (≤ 200 characters) and `type` (1, 2, 3 or 8);
  anything else is 400 `{"code": 300, ...}`. A meeting is answered 201 with its `id` and `join_url`.
- Knobs: `expire_tokens()` makes every issued token expired; `fail(status, times)` answers the next
  `times` API calls `status` (429 carries `Retry-After: retry_after`).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Request:
    """One request as it arrived, and the status it was answered."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any
    status: int = 0


@dataclass
class ZoomDouble:
    """A Zoom account with one Server-to-Server OAuth app; `await start()`, point `api_url`/`oauth_url` here."""

    account_id: str = "acct-tocsin"
    client_id: str = "zoom-client-id"
    client_secret: str = "zoom-client-secret"
    retry_after: int = 2
    requests: list[Request] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, bool] = field(default_factory=dict)  # token -> still good
    _failures: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    def expire_tokens(self) -> None:
        """Every token issued so far has expired."""
        self.tokens = dict.fromkeys(self.tokens, False)

    def fail(self, status: int, times: int = 1) -> None:
        """Answer the next `times` meeting calls `status` (429: with Retry-After)."""
        self._failures.extend([status] * times)

    def tokens_issued(self) -> int:
        """How many tokens were asked for and given."""
        return sum(1 for r in self.requests if r.path == "/oauth/token" and r.status == 200)

    async def start(self) -> ZoomDouble:
        """Serve on a free local port."""
        app = web.Application()
        app.router.add_post("/oauth/token", self._token)
        app.router.add_post("/v2/users/{user}/meetings", self._meeting)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _log(self, request: web.Request) -> Request:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        seen = Request(request.method, request.path, dict(request.query), request.headers.get("Authorization"), body)
        self.requests.append(seen)
        return seen

    async def _token(self, request: web.Request) -> web.Response:
        seen = await self._log(request)
        if not self._basic_ok(seen.authorization):
            return _answer(seen, 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        if seen.query.get("grant_type") != "account_credentials":
            return _answer(seen, 400, {"reason": "unsupported grant type", "error": "unsupported_grant_type"})
        if seen.query.get("account_id") != self.account_id:
            return _answer(seen, 400, {"reason": "Invalid account_id", "error": "invalid_request"})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = True
        body = {"access_token": token, "token_type": "bearer", "expires_in": 3599, "scope": "meeting:write:admin"}
        return _answer(seen, 200, body)

    def _basic_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            pair = base64.b64decode(authorization[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return pair == f"{self.client_id}:{self.client_secret}"

    async def _meeting(self, request: web.Request) -> web.Response:
        seen = await self._log(request)
        auth = seen.authorization or ""
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        if token is None or token not in self.tokens:
            return _answer(seen, 401, {"code": 124, "message": "Invalid access token."})
        if not self.tokens[token]:
            return _answer(seen, 401, {"code": 124, "message": "Access token is expired."})
        if self._failures:
            status = self._failures.pop(0)
            headers = {"Retry-After": str(self.retry_after)} if status == 429 else {}
            message = (
                "You have reached the maximum per-second rate limit for this API."
                if status == 429
                else "Internal error."
            )
            return _answer(seen, status, {"code": status, "message": message}, headers=headers)
        body = seen.body
        problem = _meeting_problem(body)
        if problem:
            return _answer(seen, 400, {"code": 300, "message": problem})
        number = 80000000000 + len(self.meetings) + 1
        meeting = {
            "id": number,
            "host_id": request.match_info["user"],
            "topic": body.get("topic", "Zoom Meeting"),
            "type": body.get("type", 2),
            "join_url": f"{self.base_url}/j/{number}?pwd={secrets.token_urlsafe(12)}",
        }
        self.meetings.append(meeting)
        return _answer(seen, 201, meeting)


def _meeting_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Request Body should be a valid JSON object."
    topic = body.get("topic")
    if topic is not None and (not isinstance(topic, str) or len(topic) > 200):
        return "Invalid field: topic."
    if body.get("type", 2) not in (1, 2, 3, 8):
        return "Invalid field: type."
    return None


def _answer(seen: Request, status: int, body: dict[str, Any], *, headers: dict[str, str] | None = None) -> web.Response:
    seen.status = status
    return web.json_response(body, status=status, headers=headers)
