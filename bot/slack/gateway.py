"""The one gateway to Slack's Web API: intent-named, typed methods over slack-sdk. What they raise is the
project's own SlackRefused or SlackUnreachable (bot.slack.errors), never slack-sdk's or aiohttp's alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.slack_values import MAX_CHANNEL_NAME_ATTEMPTS, Blocks, CreatedChannel, ReplyTarget, UploadedFile
from bot.slack.errors import slack_error, translated
from bot.slack.web_client import SLACK_POST_INTERVAL, ChannelPacer, retry_handlers

# The values moved to bot.domain.slack_values; the entry points still name them from here.
__all__ = [
    "MAX_CHANNEL_NAME_ATTEMPTS",
    "Blocks",
    "CreatedChannel",
    "ReplyTarget",
    "SlackGateway",
    "UploadedFile",
    "slack_error",
]

log = logging.getLogger(__name__)


class SlackGateway:
    """Everything Tocsin asks of Slack, named for what it is for (what the use cases see of it is their
    `Slack` port, bot/usecases/ports.py)."""

    def __init__(
        self,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        post_interval: float = SLACK_POST_INTERVAL,
        pacer: ChannelPacer | None = None,
        members_changed: Callable[[str], None] | None = None,
    ) -> None:
        """Use the process's client and HTTP session; pace posts `post_interval` apart per channel (or
        share `pacer` with the client's rate-limit retries). `members_changed(channel)` is told of each
        channel Tocsin invites someone to (a cache of its members forgets it)."""
        self._client = client
        self._session = session
        self.pacer = pacer or ChannelPacer(post_interval)
        self.bot_user_id: str | None = None
        self._channel_ids: dict[str, str] = {}  # "#name" → ID, learnt from conversations.list
        self._members_changed = members_changed

    def wait_before_post(self, channel: str) -> float:
        """How long a post to `channel` would wait now for Slack's pace."""
        return self.pacer.wait_for(channel)

    @property
    def client(self) -> AsyncWebClient:
        """The underlying Web API client."""
        return self._client

    async def who_am_i(self) -> dict[str, Any]:
        """auth.test: the bot's user and workspace (the user is remembered: `bot_user_id`). Start-up's token
        check: its errors are left as slack-sdk and aiohttp raise them, which bot.runtime.slack_status reads."""
        identity = dict((await self._client.auth_test()).data)  # type: ignore[arg-type]
        self.bot_user_id = identity.get("user_id")
        return identity

    @translated
    async def create_channel(self, name_for: Callable[[int], str], *, private: bool = False) -> CreatedChannel:
        """Create a channel (public unless `private`), trying `name_for(2)`, `name_for(3)`… while the
        name is taken."""
        for attempt in range(1, MAX_CHANNEL_NAME_ATTEMPTS + 1):
            name = name_for(attempt)
            try:
                response = await self._client.conversations_create(name=name, is_private=private)
            except SlackApiError as exc:
                if exc.response.get("error") == "name_taken":
                    continue
                raise
            channel = response["channel"]
            return CreatedChannel(id=channel["id"], name=channel["name"])
        raise SlackApiError(  # type: ignore[no-untyped-call]
            f"every channel name up to attempt {MAX_CHANNEL_NAME_ATTEMPTS} was taken",
            {"ok": False, "error": "name_taken"},
        )

    @translated
    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite people to a channel; someone already there is not an error."""
        try:
            await self._client.conversations_invite(channel=channel_id, users=user_ids, force=True)
        except SlackApiError as exc:
            # Already there, or Tocsin itself (an incident declared from an alert): nothing to do.
            if exc.response.get("error") not in ("already_in_channel", "cant_invite_self"):
                raise
        if self._members_changed is not None:
            self._members_changed(channel_id)

    @translated
    async def channel_members(self, channel_id: str) -> set[str]:
        """Everyone in a channel (conversations.members, a page of 1,000 at a time)."""
        members: set[str] = set()
        cursor = None
        while True:
            response = await self._client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
            members.update(str(u) for u in response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    @translated
    async def archive(self, channel_id: str) -> None:
        """Archive a channel (archived already is fine)."""
        try:
            await self._client.conversations_archive(channel=channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_archived":
                raise

    @translated
    async def set_topic(self, channel_id: str, topic: str) -> None:
        """Set a channel's topic."""
        await self._client.conversations_setTopic(channel=channel_id, topic=topic)

    @translated
    async def set_purpose(self, channel_id: str, purpose: str) -> None:
        """Set a channel's purpose."""
        await self._client.conversations_setPurpose(channel=channel_id, purpose=purpose)

    @translated
    async def post(self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None) -> str:
        """Post a message (in `thread_ts`'s thread if given), paced per channel; returns its ts."""
        await self.pacer.turn(channel)  # holds no background worker meanwhile
        response = await self._client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False, thread_ts=thread_ts
        )
        return str(response["ts"])

    @translated
    async def post_to_edit(self, channel: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        """Post a message that will be edited, paced per channel; returns its (channel ID, ts), since
        chat.update takes only an ID where chat.postMessage also took `#name`."""
        await self.pacer.turn(channel)
        response = await self._client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return str(response["channel"]), str(response["ts"])

    @translated
    async def permalink(self, channel: str, ts: str) -> str | None:
        """A message's permalink, or None when Slack will not say (a channel Tocsin cannot see)."""
        try:
            response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            log.info("no permalink for a message in %s: %s", channel, exc.response.get("error"))
            return None
        return str(response["permalink"]) if response.get("permalink") else None

    @translated
    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        """Replace a message Tocsin posted."""
        await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    @translated
    async def dm(self, user_id: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        """Message a person directly, paced like any channel (a burst of pages to one on-call person
        would otherwise meet 429s); returns the DM's (channel, ts) so it can be updated later."""
        await self.pacer.turn(user_id)
        response = await self._client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        return str(response["channel"]), str(response["ts"])

    @translated
    async def user_id_for_email(self, email: str) -> str | None:
        """The Slack user with this e-mail address, or None."""
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        return str(response["user"]["id"])

    @translated
    async def email_of(self, user_id: str) -> str | None:
        """The e-mail address on a user's Slack profile (users.info; needs users:read.email), or None."""
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return None
            raise
        email = ((response.get("user") or {}).get("profile") or {}).get("email")
        return str(email) if email else None

    @translated
    async def user_exists(self, user_id: str) -> bool:
        """Whether `user_id` is a Slack user who has not been deactivated (users.info)."""
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return False
            raise
        return not (response.get("user") or {}).get("deleted", False)

    @translated
    async def group_members(self, group_id: str) -> list[str]:
        """The users in a user group (group:S… escalation targets)."""
        response = await self._client.usergroups_users_list(usergroup=group_id)
        return [str(u) for u in response.get("users") or []]

    @translated
    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Show `view` on a person's App Home tab."""
        await self._client.views_publish(user_id=user_id, view=view)

    @translated
    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by its ts, in the channel or a reply in a thread (with its permalink, and a reply's
        thread_ts), or None when it is gone.

        An event names a message by channel and ts alone, and conversations.history holds only the
        channel's top-level messages; conversations.replies given a message's ts starts with that message
        whichever it is: a thread's parent comes first, and a reply or an unthreaded message comes alone.
        """
        thread, link = await asyncio.gather(
            self._client.conversations_replies(channel=channel, ts=ts, limit=1),
            self._client.chat_getPermalink(channel=channel, message_ts=ts),
            return_exceptions=True,
        )
        if isinstance(thread, SlackApiError) and thread.response.get("error") == "thread_not_found":
            return None  # deleted meanwhile
        if isinstance(thread, BaseException):
            raise thread
        found = next((dict(m) for m in thread.get("messages") or [] if m.get("ts") == ts), None)
        if found is not None and not isinstance(link, BaseException):
            found["permalink"] = link.get("permalink")
        return found

    @translated
    async def pin(self, channel_id: str, ts: str) -> None:
        """Pin a message in its channel (pinned already is fine)."""
        try:
            await self._client.pins_add(channel=channel_id, timestamp=ts)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_pinned":
                raise

    @translated
    async def find_own_channel(self, names: list[str], *, creator: str, private: bool = False) -> CreatedChannel | None:
        """The channel `creator` made under the first of `names` that exists (paging through
        conversations.list): how a declare that died after creating its channel finds it again."""
        wanted = {name: index for index, name in enumerate(names)}
        best: tuple[int, CreatedChannel] | None = None
        async for channel in self._channels("private_channel" if private else "public_channel"):
            index = wanted.get(str(channel.get("name")))
            if index is not None and channel.get("creator") == creator and (best is None or index < best[0]):
                best = (index, CreatedChannel(id=channel["id"], name=channel["name"]))
        return best[1] if best else None

    @translated
    async def channel_id(self, channel: str) -> str | None:
        """The ID of a channel given as an ID or as `#name` (Web API methods but chat.postMessage want IDs)."""
        if not channel.startswith("#"):
            return channel
        if channel not in self._channel_ids:
            async for found in self._channels("public_channel"):
                self._channel_ids[f"#{found['name']}"] = str(found["id"])
                if f"#{found['name']}" == channel:
                    break
        return self._channel_ids.get(channel)

    async def _channels(self, types: str) -> AsyncIterator[dict[str, Any]]:
        """Every unarchived channel of `types` Tocsin can see, a conversations.list page (Tier 2) at a time."""
        cursor = None
        while True:
            response = await self._client.conversations_list(
                types=types, exclude_archived=True, limit=1000, cursor=cursor
            )
            for channel in response.get("channels") or []:
                yield channel
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    @translated
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

    @translated
    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a modal; must be the first call after the ack (trigger_id lives 3 s)."""
        await self._client.views_open(trigger_id=trigger_id, view=view)

    @translated
    async def create_channel_canvas(self, channel_id: str, title: str, markdown: str) -> str:
        """Create a channel's canvas from Markdown; returns its ID (T2; one canvas per channel)."""
        response = await self._client.conversations_canvases_create(
            channel_id=channel_id, title=title, document_content={"type": "markdown", "markdown": markdown}
        )
        return str(response["canvas_id"])

    @translated
    async def replace_canvas(self, canvas_id: str, markdown: str) -> None:
        """Replace a canvas's whole content."""
        change = {"operation": "replace", "document_content": {"type": "markdown", "markdown": markdown}}
        await self._client.canvases_edit(canvas_id=canvas_id, changes=[change])

    @translated
    async def channel_canvas(self, channel_id: str) -> str | None:
        """The ID of a channel's canvas, if it has one."""
        response = await self._client.conversations_info(channel=channel_id)
        canvas = ((response.get("channel") or {}).get("properties") or {}).get("canvas") or {}
        return str(canvas["file_id"]) if canvas.get("file_id") else None

    @translated
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

    @translated
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
