"""views.update: replacing an open modal (the declare form showing the chosen incident type's fields)."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import SlackRefused
from bot.slack.errors import translated

# The keys a view object may carry when it is sent (Slack adds id, hash, state, team_id… to what it returns).
VIEW_KEYS = frozenset(
    {"type", "title", "blocks", "close", "submit", "private_metadata", "callback_id", "clear_on_close",
     "notify_on_close", "external_id", "submit_disabled"}
)  # fmt: skip


class ViewUpdates:
    """Replaces open modals through the process's Web API client."""

    def __init__(self, client: AsyncWebClient) -> None:
        """Call Slack through `client` (its retry handlers honour Retry-After)."""
        self._client = client

    @translated
    async def _update(self, view_id: str, view: dict[str, Any], view_hash: str | None) -> None:
        """views.update (Tier 4)."""
        arguments: dict[str, Any] = {"view_id": view_id, "view": sendable(view)}
        if view_hash:
            arguments["hash"] = view_hash
        await self._client.views_update(**arguments)

    async def replace(self, view_id: str, view: dict[str, Any], *, view_hash: str | None) -> bool:
        """Show `view` in place of the open modal `view_id`; False when the modal changed since `view_hash`
        (a newer change won: hash_conflict) or was closed (not_found). Other refusals raise SlackRefused."""
        try:
            await self._update(view_id, view, view_hash)
        except SlackRefused as exc:
            if exc.error in ("hash_conflict", "not_found"):
                return False
            raise
        return True


def sendable(view: dict[str, Any]) -> dict[str, Any]:
    """A view as Slack returned it (with id, hash, state…), cut to what may be sent back."""
    return {key: value for key, value in view.items() if key in VIEW_KEYS}
