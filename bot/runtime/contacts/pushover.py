"""Push through Pushover's Message API, at emergency priority for pages.

Calls (form-encoded, the application token as the `token` parameter): `POST {api_url}/1/messages.json`
(`user`, `message`, `title`, `priority`; priority 2 also `retry` ≥ 30 seconds, `expire` ≤ 10800 seconds
and an optional `callback` URL) answers `{"status": 1, "request", "receipt"}` for an emergency message;
`GET /1/receipts/{receipt}.json?token=` tells whether it was acknowledged; `POST
/1/receipts/{receipt}/cancel.json` stops its repeats (the page was acknowledged elsewhere). An emergency
message repeats every `retry` seconds until the person taps Acknowledge in the app or `expire` passes;
Pushover then POSTs `receipt`, `acknowledged=1`, `acknowledged_at`, `acknowledged_by` (the user key) and
`acknowledged_by_device` to the callback URL.

Errors: a 4xx with `{"status": 0, "errors": [...], "request", <field>: "invalid"}` is refused (an invalid
`token` is unauthorized); 429 means the application's monthly message limit is spent, until
`X-Limit-App-Reset` (epoch seconds), which every answer carries with `X-Limit-App-Limit` and
`X-Limit-App-Remaining` (kept in `limits`); a 5xx or no answer is retried (Pushover asks for no more than
one try every 5 seconds)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.domain.contact_policy import PushoverMethod
from bot.runtime.contacts.base import Answer, ContactError, Notice, Sent, call, credential, header, http_error

PROVIDER = "pushover"
EMERGENCY = 2
NORMAL = 0
TITLE_MAX = 250
MESSAGE_MAX = 1024
URL_MAX = 512


@dataclass(frozen=True, slots=True)
class AppLimits:
    """The application's monthly message limit, as the last answer told it."""

    limit: int
    remaining: int
    reset: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class Receipt:
    """An emergency message's state, from the receipts API."""

    acknowledged: bool
    acknowledged_at: int  # epoch seconds, 0 when not acknowledged
    acknowledged_by: str  # the user key that acknowledged first ("" when none)
    expired: bool


class PushoverClient:
    """One Pushover application (its token from the environment variable the policy names)."""

    def __init__(
        self,
        config: PushoverMethod,
        environ: Mapping[str, str],
        session: aiohttp.ClientSession,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        """Read the application token now: a missing one raises MissingCredential naming its variable."""
        self.config = config
        self.session = session
        self.now = now
        self.limits: AppLimits | None = None
        self._token = credential(environ, config.token_env, PROVIDER)
        self._base = f"{config.api_url.rstrip('/')}/1"

    def __repr__(self) -> str:
        """No token."""
        return f"PushoverClient(api_url={self.config.api_url!r})"

    async def send_emergency(
        self, user_key: str, notice: Notice, *, callback_url: str | None, retry: int = 60, expire: int = 3600
    ) -> Sent:
        """Send the page at emergency priority (repeated every `retry` seconds for `expire` seconds until
        acknowledged; Pushover posts the acknowledgement to `callback_url`); its receipt."""
        form = self._form(user_key, notice, EMERGENCY)
        form |= {"retry": str(retry), "expire": str(expire)}
        if callback_url:
            form["callback"] = callback_url
        body = await self._post("messages.json", form)
        receipt = body.get("receipt")
        if not isinstance(receipt, str) or not receipt:
            raise ContactError(PROVIDER, "bad_answer", retryable=True)
        return Sent(receipt)

    async def send(self, user_key: str, notice: Notice) -> Sent:
        """Send at normal priority (a test, a verification code); its request id."""
        body = await self._post("messages.json", self._form(user_key, notice, NORMAL))
        return Sent(str(body.get("request", "")))

    async def cancel(self, receipt: str) -> None:
        """Stop an emergency message's repeats (it was acknowledged elsewhere)."""
        await self._post(f"receipts/{receipt}/cancel.json", {"token": self._token})

    async def receipt(self, receipt: str) -> Receipt:
        """An emergency message's state (the polling fallback when a callback cannot reach Tocsin)."""
        answer = await call(
            self.session,
            "GET",
            f"{self._base}/receipts/{receipt}.json",
            provider=PROVIDER,
            params={"token": self._token},
        )
        body = self._checked(answer)
        return Receipt(
            acknowledged=body.get("acknowledged") == 1,
            acknowledged_at=int(body.get("acknowledged_at") or 0),
            acknowledged_by=str(body.get("acknowledged_by") or ""),
            expired=body.get("expired") == 1,
        )

    def _form(self, user_key: str, notice: Notice, priority: int) -> dict[str, str]:
        form = {
            "token": self._token,
            "user": user_key,
            "title": notice.title[:TITLE_MAX],
            "message": notice.body[:MESSAGE_MAX] or notice.title[:MESSAGE_MAX],
            "priority": str(priority),
        }
        if notice.link and len(notice.link) <= URL_MAX:
            form |= {"url": notice.link, "url_title": "Open incident"}
        return form

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        answer = await call(self.session, "POST", f"{self._base}/{path}", provider=PROVIDER, data=form)
        return self._checked(answer)

    def _checked(self, answer: Answer) -> dict[str, Any]:
        """The answer's body when it says status 1; else the ContactError it means. Notes the limits."""
        self._note_limits(answer)
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.ok and body.get("status") == 1:
            return body
        if answer.status == 429:
            wait = max(0.0, self.limits.reset - self.now()) if self.limits else None
            raise ContactError(PROVIDER, "rate_limited", retryable=True, retry_after=wait, status=429)
        raise _error(answer, body)

    def _note_limits(self, answer: Answer) -> None:
        values = [header(answer.headers, f"X-Limit-App-{name}") for name in ("Limit", "Remaining", "Reset")]
        try:
            limit, remaining, reset = (int(v) for v in values if v is not None)
        except ValueError:  # absent (fewer than three) or not numbers: keep what we knew
            return
        self.limits = AppLimits(limit, remaining, reset)


def _error(answer: Answer, body: dict[str, Any]) -> ContactError:
    """Pushover's `{status: 0, errors, <field>: "invalid"}` as a ContactError: the invalid fields' names
    are kept (not the errors' text); an invalid token is unauthorized."""
    invalid = sorted(key for key, value in body.items() if value == "invalid")
    code = ",".join(invalid) or None
    if answer.ok:  # 200 without status 1: refused all the same
        return ContactError(PROVIDER, "invalid", retryable=False, code=code, status=answer.status)
    reason = "unauthorized" if "token" in invalid and answer.status < 500 else None
    return http_error(PROVIDER, answer, code=code, reason=reason)
