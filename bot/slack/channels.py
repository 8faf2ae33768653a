"""Renaming a channel (conversations.rename, Tier 2) on the gateway's Web API client: what the
`ChannelRenamer` port of bot/usecases/channel_ports.py asks of Slack. The name is tried with `-2`, `-3`…
while Slack says it is taken, as channels are made (bot/slack/gateway.py)."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.slack_values import MAX_CHANNEL_NAME_ATTEMPTS
from bot.slack.errors import translated


class SlackChannels:
    """Channel changes beyond the gateway's: renaming."""

    def __init__(self, client: AsyncWebClient) -> None:
        """Use the process's Web API client."""
        self._client = client

    @translated
    async def rename(self, channel_id: str, name_for: Callable[[int], str], *, current: str | None = None) -> str:
        """Rename the channel to `name_for(1)`, else `name_for(2)`… while the name is taken; the name it has
        now (unchanged when it already has one of those names)."""
        for attempt in range(1, MAX_CHANNEL_NAME_ATTEMPTS + 1):
            name = name_for(attempt)
            if name == current:
                return name
            try:
                response = await self._client.conversations_rename(channel=channel_id, name=name)
            except SlackApiError as exc:
                if exc.response.get("error") == "name_taken":
                    continue
                raise
            return str(response["channel"]["name"])
        raise SlackApiError(  # type: ignore[no-untyped-call]
            f"every channel name up to attempt {MAX_CHANNEL_NAME_ATTEMPTS} was taken",
            {"ok": False, "error": "name_taken"},
        )
