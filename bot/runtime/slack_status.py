"""What this process knows of Slack, for /readyz (as detail: Slack is never a reason to refuse work) and
the tocsin_slack_up gauge: whether its Web API answers the bot token and, when it does not, why. An
outage is logged once, naming the URL tried (never a token), until its reason changes or Slack answers."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.settings import redact_url

log = logging.getLogger(__name__)

# Slack's answers meaning the token itself is refused (anything else it answers is "unavailable").
AUTH_TEST = "auth.test"  # the bot token's check; Slack is not "ok" before it has answered once
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})

OK = "ok"
CONNECTING = "connecting"  # not asked yet (start-up is still waiting for the database)
UNREACHABLE = "unreachable"  # no answer: refused connection, unknown host, timeout
NOT_AUTHENTICATED = "not authenticated"  # Slack answered and refused the token
UNAVAILABLE = "unavailable"  # Slack answered with another error (service_unavailable, 5xx, ratelimited)


def classify(exc: BaseException) -> tuple[str, str]:
    """(state, reason) for a failed call to Slack."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        code = str(error or f"HTTP {exc.response.status_code}")
        return (NOT_AUTHENTICATED if code in AUTH_ERRORS else UNAVAILABLE), code
    if isinstance(exc, TimeoutError):
        return UNREACHABLE, "no answer in time (TimeoutError)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UNREACHABLE, f"cannot connect ({exc.os_error.strerror or type(exc.os_error).__name__})"
    text = str(exc).strip().splitlines()
    return UNREACHABLE, f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


class SlackStatus:
    """Slack's state as this process last saw it. Each kind of call (auth.test, Socket Mode's
    apps.connections.open) reports `answered(what)` or `failed(exc, what)`; Slack is "ok" once the bot
    token was accepted and no kind of call is failing."""

    def __init__(self, api_url: str) -> None:
        """`api_url`: SLACK_API_URL, named in the log lines (with any password in it hidden)."""
        self.url = redact_url(api_url)
        self._authenticated = False
        self._failing: dict[str, tuple[str, str]] = {}  # what -> (state, reason)

    @property
    def state(self) -> str:
        """ "ok", "connecting" (not asked yet), or why the last call failed."""
        if self._failing:
            return next(iter(self._failing.values()))[0]
        return OK if self._authenticated else CONNECTING

    @property
    def reason(self) -> str | None:
        """Why Slack is not ok (None when it is, or was not asked yet)."""
        return next(iter(self._failing.values()))[1] if self._failing else None

    @property
    def ok(self) -> bool:
        """Whether Slack accepted the bot token and answers."""
        return self.state == OK

    def answered(self, what: str) -> None:
        """A call of kind `what` worked: one line when that ends an outage."""
        was_down = bool(self._failing)
        self._failing.pop(what, None)
        self._authenticated |= what == AUTH_TEST
        if was_down and not self._failing:
            log.info("Slack at %s answers again", self.url)

    def failed(self, exc: BaseException, what: str) -> None:
        """A call of kind `what` failed; a warning when its reason is new, else nothing."""
        failure = classify(exc)
        new = failure not in self._failing.values()
        self._failing[what] = failure
        if new:
            log.warning(
                "Slack at %s is %s for %s (%s); retrying with backoff, with no further line until it answers "
                "or fails differently",
                self.url,
                failure[0],
                what,
                failure[1],
            )

    def report(self) -> dict[str, str]:
        """Slack's part of /readyz: {"slack": state} and, when it is not ok, {"slack_reason": why}."""
        reason = self.reason
        return {"slack": self.state, **({"slack_reason": reason} if reason else {})}
