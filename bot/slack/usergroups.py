"""Slack's user groups for schedules that keep one (usergroups.list, usergroups.users.update): the
UserGroups port of bot/usecases/handover_ports.py, on the process's AsyncWebClient. Failures arrive as
SlackRefused or SlackUnreachable (bot/slack/errors.py)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.handovers import group_handle, is_group_id
from bot.slack.errors import translated


class SlackUserGroups:
    """A schedule's user group found by ID or handle, and set to whoever is on call."""

    def __init__(self, client: AsyncWebClient) -> None:
        """Use the process's Web API client."""
        self._client = client
        self._ids: dict[str, str] = {}  # handle → ID, as usergroups.list said

    @translated
    async def group_id(self, ref: str) -> str | None:
        """The ID of the group `ref` names: an S… ID as is; a handle (`checkout-oncall`, with or without
        its `@`) looked up with usergroups.list (disabled groups included: setting users enables none, and
        Slack's error then says what is wrong); None when no group has that handle."""
        if is_group_id(ref.strip()):
            return ref.strip()
        handle = group_handle(ref)
        if handle not in self._ids:
            response = await self._client.usergroups_list(include_disabled=True)
            for group in response.get("usergroups") or []:
                if group.get("handle") and group.get("id"):
                    self._ids[str(group["handle"]).lower()] = str(group["id"])
        return self._ids.get(handle)

    @translated
    async def set_members(self, group_id: str, user_ids: Sequence[str]) -> None:
        """Make `user_ids` the group's only members (usergroups.users.update replaces the whole list)."""
        try:
            await self._client.usergroups_users_update(usergroup=group_id, users=list(user_ids))
        except Exception:
            # The handle may now name another group (renamed, deleted): look it up again next time.
            for handle in [h for h, known in self._ids.items() if known == group_id]:
                del self._ids[handle]
            raise
