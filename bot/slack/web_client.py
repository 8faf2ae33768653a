"""The Web API client: slack-sdk's, with separate retry budgets for rate limits, server errors and
connection errors, each post's 429 retry taking its turn in the channel's queue (ChannelPacer), and the
methods a storm calls once per incident paced at their rate tier (MethodPacer). Every wait for Slack's
pace or a Retry-After gives the background worker back while it sleeps (bot.runtime.worker_slot)."""

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
from bot.runtime.worker_slot import wait_for_slack

RATE_LIMIT_RETRIES = 8  # each waits out Retry-After
SERVER_ERROR_RETRIES = 4  # 5xx: exponential backoff with jitter
CONNECTION_RETRIES = 4
RETRY_BACKOFF_FACTOR = 0.5  # seconds: 0.5, 1, 2, 4 (plus jitter) between tries
CONNECTION_ERROR = "connection"  # tocsin_slack_api_errors_total's error label when Slack did not answer
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
    """429: wait Retry-After, on a budget of its own; a post's retry also takes its channel's next slot
    (and a paced method's its method's), so retries queue behind the pace instead of racing the calls
    waiting there. The wait holds no background worker."""

    def __init__(
        self, max_retry_count: int, pacer: ChannelPacer | None = None, methods: MethodPacer | None = None
    ) -> None:
        """`pacer`: the gateway's per-channel pacer, for chat.postMessage retries; `methods`: the client's
        per-method pacer."""
        super().__init__(max_retry_count=max_retry_count)
        self._pacer = pacer
        self._methods = methods

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
        method = request.url.rsplit("/", 1)[-1]
        state.next_attempt_requested = True
        if channel is not None and self._pacer is not None:
            self._pacer.hold(channel, retry_after)
            await self._pacer.turn(channel)
        elif self._methods is not None and self._methods.paces(method):
            self._methods.hold(method, retry_after)
            await wait_for_slack(self._methods.reserve(method) + random.random() * 0.1)  # noqa: S311 - jitter
        else:
            await wait_for_slack(retry_after + random.random() * 0.1)  # noqa: S311 - jitter, not security
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


def retry_handlers(pacer: ChannelPacer | None = None, methods: MethodPacer | None = None) -> list[AsyncRetryHandler]:
    """Retries slack-sdk does not install by default, each with its own budget: 429 with Retry-After
    (through `pacer` for posts, `methods` for paced methods), 5xx with backoff and jitter, and dropped
    connections."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=RETRY_BACKOFF_FACTOR, jitter=RandomJitter())
    return [
        ConnectionRetries(max_retry_count=CONNECTION_RETRIES, interval_calculator=backoff),
        RateLimitRetries(RATE_LIMIT_RETRIES, pacer, methods),
        ServerErrorRetries(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=backoff),
    ]


def retryable(exc: BaseException) -> bool:
    """Whether a failed Slack call is worth trying again later (Slack busy or unreachable)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "")) in RETRYABLE_ERRORS or exc.response.status_code >= 500
    return isinstance(exc, aiohttp.ClientError | TimeoutError | OSError)


class InstrumentedWebClient(AsyncWebClient):
    """AsyncWebClient that counts every call and error (connection errors too) by method for /metrics,
    and paces the methods `methods` knows at their rate tier."""

    def __init__(self, *args: Any, metrics: Metrics, methods: MethodPacer | None = None, **kwargs: Any) -> None:
        """Pass everything else on to AsyncWebClient."""
        super().__init__(*args, **kwargs)
        self._metrics = metrics
        self._methods = methods

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        """Call Slack when the method's tier allows (no worker held meanwhile), counting the call and any error."""
        if self._methods is not None:
            await wait_for_slack(self._methods.reserve(api_method))
        self._metrics.slack_calls.labels(api_method).inc()
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._metrics.slack_errors.labels(api_method, error_code(exc)).inc()
            raise
        except (aiohttp.ClientError, TimeoutError, OSError):
            # Slack did not answer (refused, unknown host, dropped, timed out), after the retries.
            self._metrics.slack_errors.labels(api_method, CONNECTION_ERROR).inc()
            raise


def error_code(exc: SlackApiError) -> str:
    """Slack's error code for a refused call; `http_<status>` when the answer was not Slack's JSON."""
    data = exc.response.data
    return str(data.get("error", "unknown_error")) if isinstance(data, dict) else f"http_{exc.response.status_code}"


def build_web_client(
    *,
    token: str,
    base_url: str,
    session: aiohttp.ClientSession,
    metrics: Metrics,
    pacer: ChannelPacer | None = None,
    tier_minute: float = 60.0,
) -> InstrumentedWebClient:
    """The process's one Web API client, with rate-limit, server-error and connection retries installed
    and the Tier 2 methods paced once Slack refuses one (`tier_minute`: how long Slack's minute is, shorter
    against a test double)."""
    methods = MethodPacer(minute=tier_minute)
    return InstrumentedWebClient(
        token=token,
        base_url=base_url,
        session=session,
        retry_handlers=retry_handlers(pacer, methods),
        metrics=metrics,
        methods=methods,
    )


_PACER_SWEEP_AT = 256


class ChannelPacer:
    """Spaces posts to one channel (Slack allows about one message a second per channel), in order."""

    def __init__(self, interval: float) -> None:
        """`interval` seconds between posts to the same channel."""
        self._interval = interval
        self._next_free: dict[str, float] = {}
        self._sent: dict[str, float] = {}  # when the channel's last post went out
        self._sweep_at = _PACER_SWEEP_AT

    def reserve(self, channel: str) -> float:
        """Take the channel's next slot; returns how many seconds to wait for it."""
        now = time.monotonic()
        slot = max(now, self._next_free.get(channel, 0.0))
        self._next_free[channel] = slot + self._interval
        if len(self._next_free) > self._sweep_at:  # channels whose slot has passed need no entry
            self._next_free = {c: free for c, free in self._next_free.items() if free > now}
            self._sent = {c: sent for c, sent in self._sent.items() if sent + self._interval > now}
            self._sweep_at = max(_PACER_SWEEP_AT, 2 * len(self._next_free))
        return slot - now

    async def turn(self, channel: str) -> None:
        """Wait for the channel's next slot, holding no background worker meanwhile; then, should several
        waits have ended together (a busy event loop runs late timers at once), for the channel's last
        post to be `interval` old, so the posts still go out a pace apart."""
        await wait_for_slack(self.reserve(channel))
        while (gap := self._sent.get(channel, 0.0) + self._interval - time.monotonic()) > 0:
            await wait_for_slack(gap)
        self._sent[channel] = time.monotonic()

    def wait_for(self, channel: str) -> float:
        """How long a post to `channel` would wait now."""
        return max(0.0, self._next_free.get(channel, 0.0) - time.monotonic())

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said to wait (429 Retry-After): no post to `channel` before then."""
        self._next_free[channel] = max(self._next_free.get(channel, 0.0), time.monotonic() + seconds)


# Slack's Tier 2 (about 20 calls a minute per workspace, with bursts): the methods a storm of declares calls
# once per incident. Once Slack has said 429 to one, the rest queue for it here at its tier's pace without a
# worker, instead of meeting a wall of 429s whose retries would use up their budget and leave channels
# uncreated. Slack often allows more than its documented tier, so nothing is paced before it says so.
PACED_METHODS: dict[str, int] = {
    "conversations.create": 20,
    "conversations.setPurpose": 20,
    "conversations.setTopic": 20,
    "pins.add": 20,
    "bookmarks.add": 20,
    "conversations.canvases.create": 20,
    "conversations.list": 20,
}
PACE_MARGIN = 1.05  # space calls 5% wider than the tier, so clock jitter never turns a paced call into a 429


class MethodPacer:
    """Spaces calls to a rate-tiered method at its tier once Slack refuses one (429): a token bucket, as
    Slack's own limits behave, emptied by the refusal; the calls take their turns in the order they asked.
    Before a refusal, and once the bucket is full again (a minute without calls), calls go at once."""

    def __init__(self, *, minute: float = 60.0, tiers: dict[str, int] | None = None) -> None:
        """`tiers`: calls a minute per method (PACED_METHODS by default); `minute`: its length in seconds."""
        self._minute = minute
        self._tiers = PACED_METHODS if tiers is None else tiers
        self._due: dict[str, float] = {}  # per paced method: when its bucket will be full again

    def paces(self, method: str) -> bool:
        """Whether `method` is paced here (once Slack refuses it)."""
        return method in self._tiers

    def reserve(self, method: str) -> float:
        """Take the method's next call slot; returns how many seconds to wait for it (0 while not paced)."""
        per_minute = self._tiers.get(method)
        now = time.monotonic()
        due = self._due.get(method, 0.0)
        if per_minute is None or due <= now:
            return 0.0
        interval = self._minute / per_minute * PACE_MARGIN
        slot = max(now, due - (per_minute - 1) * interval)  # a full bucket lets a burst through at once
        self._due[method] = due + interval
        return slot - now

    def hold(self, method: str, seconds: float) -> None:
        """Slack refused a call (429 Retry-After): no call to `method` before then, and an even pace after."""
        per_minute = self._tiers.get(method)
        if per_minute is None:
            return
        interval = self._minute / per_minute * PACE_MARGIN
        earliest = time.monotonic() + seconds + (per_minute - 1) * interval
        self._due[method] = max(self._due.get(method, 0.0), earliest)


# Slack allows about one message a second per channel: pace a little under it, so timing jitter between
# Tocsin and Slack never turns a paced post into a 429.
SLACK_POST_INTERVAL = 1.2
