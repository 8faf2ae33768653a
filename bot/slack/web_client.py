"""The Web API client: slack-sdk's, with separate retry budgets for rate limits, server errors and
connection errors, each post's 429 retry taking its turn in the channel's queue (ChannelPacer)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime.metrics import Metrics

RATE_LIMIT_RETRIES = 8  # each waits out Retry-After
SERVER_ERROR_RETRIES = 4  # 5xx: exponential backoff with jitter
CONNECTION_RETRIES = 4
RETRY_BACKOFF_FACTOR = 0.5  # seconds: 0.5, 1, 2, 4 (plus jitter) between tries
# Errors that mean "not now": worth trying again later (the outbox, the set-up sweep) rather than giving up.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "server_error"}
)


class _OwnBudget:
    """A retry handler that counts its own attempts: 429s, 5xx and dropped connections each have a
    budget, so two rate-limit waits do not leave a single 5xx fatal (slack-sdk shares one counter)."""

    max_retry_count: int

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Whether this handler still has budget for this request and wants to retry it."""
        used = (state.custom_values or {}).get(type(self).__name__, 0)
        if used >= self.max_retry_count:
            return False
        return await self._can_retry_async(  # type: ignore[attr-defined,no-any-return]
            state=state, request=request, response=response, error=error
        )

    def _spend(self, state: RetryState) -> int:
        """Count one more attempt against this handler's budget; how many it had used before."""
        if state.custom_values is None:
            state.custom_values = {}
        name = type(self).__name__
        used = int(state.custom_values.get(name, 0))
        state.custom_values[name] = used + 1
        return used

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Back off exponentially (with jitter) by this handler's own attempt count."""
        used = self._spend(state)
        state.next_attempt_requested = True
        await asyncio.sleep(self.interval_calculator.calculate_sleep_duration(used))  # type: ignore[attr-defined]
        state.increment_current_attempt()


class ServerErrorRetries(_OwnBudget, AsyncServerErrorRetryHandler):
    """5xx: retried with exponential backoff and jitter, on a budget of its own."""


class ConnectionRetries(_OwnBudget, AsyncConnectionErrorRetryHandler):
    """Dropped or refused connections: retried with backoff, on a budget of its own."""


class RateLimitRetries(_OwnBudget, AsyncRateLimitErrorRetryHandler):
    """429: wait Retry-After, on a budget of its own; a post's retry also takes its channel's next slot,
    so retries queue behind the channel's pace instead of racing the posts waiting there."""

    def __init__(self, max_retry_count: int, pacer: ChannelPacer | None = None) -> None:
        """`pacer`: the gateway's per-channel pacer, for chat.postMessage retries."""
        super().__init__(max_retry_count=max_retry_count)
        self._pacer = pacer

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Wait Retry-After (through the pacer for posts), then count the attempt against this budget."""
        self._spend(state)
        retry_after = _retry_after(response) if response is not None else 1.0
        channel = _posted_channel(request) if self._pacer is not None else None
        state.next_attempt_requested = True
        if channel is not None and self._pacer is not None:
            self._pacer.hold(channel, retry_after)
            wait = self._pacer.reserve(channel)
        else:
            wait = retry_after
        await asyncio.sleep(wait + random.random() * 0.1)  # noqa: S311 - jitter, not security
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0


def _posted_channel(request: HttpRequest) -> str | None:
    """The channel of a chat.postMessage request (None for any other method)."""
    if not request.url.endswith("chat.postMessage"):
        return None
    params: Any = request.body_params
    if params is None and request.data:
        try:
            params = json.loads(request.data)
        except ValueError:
            return None
    channel = params.get("channel") if isinstance(params, dict) else None
    return str(channel) if channel else None


def retry_handlers(pacer: ChannelPacer | None = None) -> list[AsyncRetryHandler]:
    """Retries slack-sdk does not install by default, each with its own budget: 429 with Retry-After
    (through `pacer` for posts), 5xx with backoff and jitter, and dropped connections."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=RETRY_BACKOFF_FACTOR, jitter=RandomJitter())
    return [
        ConnectionRetries(max_retry_count=CONNECTION_RETRIES, interval_calculator=backoff),
        RateLimitRetries(RATE_LIMIT_RETRIES, pacer),
        ServerErrorRetries(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=backoff),
    ]


def retryable(exc: BaseException) -> bool:
    """Whether a failed Slack call is worth trying again later (Slack busy or unreachable)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "")) in RETRYABLE_ERRORS or exc.response.status_code >= 500
    return isinstance(exc, aiohttp.ClientError | TimeoutError | OSError)


class InstrumentedWebClient(AsyncWebClient):
    """AsyncWebClient that counts every call and error by method for /metrics."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        """Pass everything on to AsyncWebClient."""
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        """Call Slack, counting the call and any error."""
        self._metrics.slack_calls.labels(api_method).inc()
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._metrics.slack_errors.labels(api_method, error_code(exc)).inc()
            raise


def error_code(exc: SlackApiError) -> str:
    """Slack's error code for a refused call; `http_<status>` when the answer was not Slack's JSON."""
    data = exc.response.data
    return str(data.get("error", "unknown_error")) if isinstance(data, dict) else f"http_{exc.response.status_code}"


def build_web_client(
    *, token: str, base_url: str, session: aiohttp.ClientSession, metrics: Metrics, pacer: ChannelPacer | None = None
) -> InstrumentedWebClient:
    """The process's one Web API client, with rate-limit, server-error and connection retries installed."""
    return InstrumentedWebClient(
        token=token, base_url=base_url, session=session, retry_handlers=retry_handlers(pacer), metrics=metrics
    )


_PACER_SWEEP_AT = 256


class ChannelPacer:
    """Spaces posts to one channel (Slack allows about one message a second per channel), in order."""

    def __init__(self, interval: float) -> None:
        """`interval` seconds between posts to the same channel."""
        self._interval = interval
        self._next_free: dict[str, float] = {}
        self._sweep_at = _PACER_SWEEP_AT

    def reserve(self, channel: str) -> float:
        """Take the channel's next slot; returns how many seconds to wait for it."""
        now = time.monotonic()
        slot = max(now, self._next_free.get(channel, 0.0))
        self._next_free[channel] = slot + self._interval
        if len(self._next_free) > self._sweep_at:  # channels whose slot has passed need no entry
            self._next_free = {c: free for c, free in self._next_free.items() if free > now}
            self._sweep_at = max(_PACER_SWEEP_AT, 2 * len(self._next_free))
        return slot - now

    def wait_for(self, channel: str) -> float:
        """How long a post to `channel` would wait now."""
        return max(0.0, self._next_free.get(channel, 0.0) - time.monotonic())

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said to wait (429 Retry-After): no post to `channel` before then."""
        self._next_free[channel] = max(self._next_free.get(channel, 0.0), time.monotonic() + seconds)


# Slack allows about one message a second per channel: pace a little under it, so timing jitter between
# Tocsin and Slack never turns a paced post into a 429.
SLACK_POST_INTERVAL = 1.2
