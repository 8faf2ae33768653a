"""The one gateway to Slack's Web API: intent-named, typed methods over slack-sdk."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
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
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import Metrics

log = logging.getLogger(__name__)

Blocks = list[dict[str, Any]]
MAX_CHANNEL_NAME_ATTEMPTS = 20


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

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        """Call Slack, counting the call and any error."""
        self._metrics.slack_calls.labels(api_method).inc()
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._metrics.slack_errors.labels(api_method, str(exc.response.get("error", "unknown"))).inc()
            raise


def build_web_client(
    *, token: str, base_url: str, session: aiohttp.ClientSession, metrics: Metrics, pacer: ChannelPacer | None = None
) -> InstrumentedWebClient:
    """The process's one Web API client, with rate-limit, server-error and connection retries installed."""
    return InstrumentedWebClient(
        token=token, base_url=base_url, session=session, retry_handlers=retry_handlers(pacer), metrics=metrics
    )


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a private reply to a person goes: the response_url when there is one, else ephemeral/DM."""

    user_id: str
    channel_id: str | None = None
    response_url: str | None = None


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file uploaded with files v2."""

    id: str
    permalink: str | None


@dataclass(frozen=True, slots=True)
class CreatedChannel:
    """A channel conversations.create made."""

    id: str
    name: str


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


class SlackGateway:
    """Everything Tocsin asks of Slack, named for what it is for."""

    def __init__(
        self,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        post_interval: float = SLACK_POST_INTERVAL,
        pacer: ChannelPacer | None = None,
    ) -> None:
        """Use the process's client and HTTP session; pace posts `post_interval` apart per channel (or
        share `pacer` with the client's rate-limit retries)."""
        self._client = client
        self._session = session
        self.pacer = pacer or ChannelPacer(post_interval)
        self.bot_user_id: str | None = None
        self._channel_ids: dict[str, str] = {}  # "#name" → ID, learnt from conversations.list

    @property
    def client(self) -> AsyncWebClient:
        """The underlying Web API client."""
        return self._client

    async def who_am_i(self) -> dict[str, Any]:
        """auth.test: the bot's user and workspace (the user is remembered: `bot_user_id`)."""
        identity = dict((await self._client.auth_test()).data)  # type: ignore[arg-type]
        self.bot_user_id = identity.get("user_id")
        return identity

    async def create_channel(self, name_for: Callable[[int], str]) -> CreatedChannel:
        """Create a public channel, trying `name_for(2)`, `name_for(3)`… while the name is taken."""
        for attempt in range(1, MAX_CHANNEL_NAME_ATTEMPTS + 1):
            name = name_for(attempt)
            try:
                response = await self._client.conversations_create(name=name, is_private=False)
            except SlackApiError as exc:
                if exc.response.get("error") == "name_taken":
                    continue
                raise
            channel = response["channel"]
            return CreatedChannel(id=channel["id"], name=channel["name"])
        raise SlackApiError(
            f"every channel name up to attempt {MAX_CHANNEL_NAME_ATTEMPTS} was taken",
            {"ok": False, "error": "name_taken"},  # type: ignore[arg-type]
        )

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite people to a channel; someone already there is not an error."""
        try:
            await self._client.conversations_invite(channel=channel_id, users=user_ids, force=True)
        except SlackApiError as exc:
            # Already there, or Tocsin itself (an incident declared from an alert): nothing to do.
            if exc.response.get("error") not in ("already_in_channel", "cant_invite_self"):
                raise

    async def set_topic(self, channel_id: str, topic: str) -> None:
        """Set a channel's topic."""
        await self._client.conversations_setTopic(channel=channel_id, topic=topic)

    async def set_purpose(self, channel_id: str, purpose: str) -> None:
        """Set a channel's purpose."""
        await self._client.conversations_setPurpose(channel=channel_id, purpose=purpose)

    async def post(self, channel: str, text: str, blocks: Blocks | None = None) -> str:
        """Post a message, paced per channel; returns its ts."""
        delay = self.pacer.reserve(channel)
        if delay > 0:
            await asyncio.sleep(delay)
        response = await self._client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return str(response["ts"])

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        """Replace a message Tocsin posted."""
        await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    async def dm(self, user_id: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        """Message a person directly, paced like any channel (a burst of pages to one on-call person
        would otherwise meet 429s); returns the DM's (channel, ts) so it can be updated later."""
        delay = self.pacer.reserve(user_id)
        if delay > 0:
            await asyncio.sleep(delay)
        response = await self._client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        return str(response["channel"]), str(response["ts"])

    async def user_id_for_email(self, email: str) -> str | None:
        """The Slack user with this e-mail address, or None."""
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        return str(response["user"]["id"])

    async def group_members(self, group_id: str) -> list[str]:
        """The users in a user group (group:S… escalation targets)."""
        response = await self._client.usergroups_users_list(usergroup=group_id)
        return [str(u) for u in response.get("users") or []]

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Show `view` on a person's App Home tab."""
        await self._client.views_publish(user_id=user_id, view=view)

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by its ts (with its permalink), or None when it is gone."""
        history, link = await asyncio.gather(
            self._client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1),
            self._client.chat_getPermalink(channel=channel, message_ts=ts),
            return_exceptions=True,
        )
        if isinstance(history, BaseException):
            raise history
        messages = history.get("messages") or []
        if not messages:
            return None
        found = dict(messages[0])
        if not isinstance(link, BaseException):
            found["permalink"] = link.get("permalink")
        return found

    async def pin(self, channel_id: str, ts: str) -> None:
        """Pin a message in its channel (pinned already is fine)."""
        try:
            await self._client.pins_add(channel=channel_id, timestamp=ts)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_pinned":
                raise

    async def find_own_channel(self, names: list[str], *, creator: str) -> CreatedChannel | None:
        """The public channel `creator` made under the first of `names` that exists (paging through
        conversations.list): how a declare that died after creating its channel finds it again."""
        wanted = {name: index for index, name in enumerate(names)}
        best: tuple[int, CreatedChannel] | None = None
        async for channel in self._public_channels():
            index = wanted.get(channel.get("name"))
            if index is not None and channel.get("creator") == creator and (best is None or index < best[0]):
                best = (index, CreatedChannel(id=channel["id"], name=channel["name"]))
        return best[1] if best else None

    async def channel_id(self, channel: str) -> str | None:
        """The ID of a channel given as an ID or as `#name` (Web API methods but chat.postMessage want IDs)."""
        if not channel.startswith("#"):
            return channel
        if channel not in self._channel_ids:
            async for found in self._public_channels():
                self._channel_ids[f"#{found['name']}"] = str(found["id"])
                if f"#{found['name']}" == channel:
                    break
        return self._channel_ids.get(channel)

    async def _public_channels(self) -> AsyncIterator[dict[str, Any]]:
        """Every unarchived public channel, a conversations.list page (Tier 2) at a time."""
        cursor = None
        while True:
            response = await self._client.conversations_list(
                types="public_channel", exclude_archived=True, limit=1000, cursor=cursor
            )
            for channel in response.get("channels") or []:
                yield channel
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    async def find_own_message(self, channel: str, block_id: str, *, author: str, limit: int = 100) -> str | None:
        """The ts of a recent message by `author` in `channel` (an ID or `#name`) carrying a block with
        `block_id`. Tocsin joins a public channel it posts in without membership, to read it."""
        channel_id = await self.channel_id(channel)
        if channel_id is None:
            return None
        try:
            response = await self._client.conversations_history(channel=channel_id, limit=limit)
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
            await self._client.conversations_join(channel=channel_id)
            response = await self._client.conversations_history(channel=channel_id, limit=limit)
        for message in response.get("messages") or []:
            if message.get("user") == author and any(
                b.get("block_id") == block_id for b in message.get("blocks") or [] if isinstance(b, dict)
            ):
                return str(message["ts"])
        return None

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a modal; must be the first call after the ack (trigger_id lives 3 s)."""
        await self._client.views_open(trigger_id=trigger_id, view=view)

    async def create_channel_canvas(self, channel_id: str, title: str, markdown: str) -> str:
        """Create a channel's canvas from Markdown; returns its ID (T2; one canvas per channel)."""
        response = await self._client.conversations_canvases_create(
            channel_id=channel_id, title=title, document_content={"type": "markdown", "markdown": markdown}
        )
        return str(response["canvas_id"])

    async def replace_canvas(self, canvas_id: str, markdown: str) -> None:
        """Replace a canvas's whole content."""
        change = {"operation": "replace", "document_content": {"type": "markdown", "markdown": markdown}}
        await self._client.canvases_edit(canvas_id=canvas_id, changes=[change])

    async def channel_canvas(self, channel_id: str) -> str | None:
        """The ID of a channel's canvas, if it has one."""
        response = await self._client.conversations_info(channel=channel_id)
        canvas = ((response.get("channel") or {}).get("properties") or {}).get("canvas") or {}
        return str(canvas["file_id"]) if canvas.get("file_id") else None

    async def upload(
        self, *, filename: str, content: bytes, title: str, channel_id: str | None = None, comment: str | None = None
    ) -> UploadedFile:
        """Upload a file with files v2 (getUploadURLExternal → upload → completeUploadExternal).

        With `channel_id` it is shared there with `comment`; without, it stays private to Tocsin (for
        image blocks that refer to it by ID).
        """
        response = await self._client.files_upload_v2(
            filename=filename, content=content, title=title, channel=channel_id, initial_comment=comment
        )
        file = response["file"]
        return UploadedFile(id=str(file["id"]), permalink=file.get("permalink"))

    async def reply(self, target: ReplyTarget, text: str, blocks: Blocks | None = None) -> None:
        """Tell one person something privately: response_url, else ephemeral, else a DM."""
        if target.response_url:
            webhook = AsyncWebhookClient(target.response_url, session=self._session, retry_handlers=retry_handlers())
            response = await webhook.send(text=text, blocks=blocks, response_type="ephemeral")
            if response.status_code == 200:
                return
            log.warning("response_url refused the reply (HTTP %s); sending a DM", response.status_code)
        elif target.channel_id:
            try:
                await self._client.chat_postEphemeral(
                    channel=target.channel_id, user=target.user_id, text=text, blocks=blocks
                )
                return
            except SlackApiError as exc:
                log.info("ephemeral reply failed (%s); sending a DM", exc.response.get("error"))
        await self._client.chat_postMessage(channel=target.user_id, text=text, blocks=blocks)


def slack_error(exc: BaseException) -> str:
    """Slack's error code for a failed call (or the exception's name)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    return type(exc).__name__
