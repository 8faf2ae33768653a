"""A channel's bookmarks (bookmarks.add / edit / remove / list, Tier 2) on the gateway's Web API client:
what the `ChannelBookmarks` port of bot/usecases/channel_ports.py asks of Slack. Failures arrive as
SlackRefused or SlackUnreachable."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.bookmarks import Bookmark
from bot.slack.errors import translated


class SlackBookmarks:
    """Adds, edits and removes the link bookmarks Tocsin keeps in incident channels."""

    def __init__(self, client: AsyncWebClient) -> None:
        """Use the process's Web API client."""
        self._client = client

    @translated
    async def add(self, channel_id: str, bookmark: Bookmark) -> str:
        """Add a link bookmark; Slack's id for it."""
        response = await self._client.bookmarks_add(
            channel_id=channel_id, title=bookmark.title, type="link", link=bookmark.link, **_emoji(bookmark)
        )
        return str(response["bookmark"]["id"])

    @translated
    async def edit(self, channel_id: str, bookmark_id: str, bookmark: Bookmark) -> None:
        """Change a bookmark's title, link and emoji."""
        await self._client.bookmarks_edit(
            bookmark_id=bookmark_id, channel_id=channel_id, title=bookmark.title, link=bookmark.link, **_emoji(bookmark)
        )

    @translated
    async def remove(self, channel_id: str, bookmark_id: str) -> None:
        """Remove a bookmark (gone already is fine)."""
        try:
            await self._client.bookmarks_remove(bookmark_id=bookmark_id, channel_id=channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("not_found", "bookmark_not_found"):
                raise

    @translated
    async def listed(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's bookmarks as Slack has them."""
        response = await self._client.bookmarks_list(channel_id=channel_id)
        return [dict(b) for b in response.get("bookmarks") or []]


def _emoji(bookmark: Bookmark) -> dict[str, str]:
    return {"emoji": bookmark.emoji} if bookmark.emoji else {}
