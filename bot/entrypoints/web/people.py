"""People's names for the pages: Slack user IDs shown as the names Slack has for them (users.info with the
bot token), remembered for an hour. A name Slack cannot give is shown as the ID: a page never waits on, or
fails for, a name."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 3600.0
FORGET_FAILURE_SECONDS = 300.0  # an ID Slack does not know (or an outage): asked again after this
MAX_REMEMBERED = 10_000
LOOKUP_SECONDS = 3.0  # a page waits at most this long for names
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


@dataclass
class People:
    """Names of Slack users, looked up and remembered."""

    client: AsyncWebClient
    monotonic: Callable[[], float] = time.monotonic
    _known: dict[str, tuple[float, str | None]] = field(default_factory=dict, init=False, repr=False)

    async def names(self, refs: Iterable[str | None]) -> dict[str, str]:
        """The names of the user IDs among `refs` (others, such as e-mail addresses, are left out)."""
        wanted = {r for r in refs if r and USER_ID.match(r)}
        now = self.monotonic()
        missing = [r for r in wanted if not self._fresh(r, now)]
        if missing:
            try:
                async with asyncio.timeout(LOOKUP_SECONDS):
                    await asyncio.gather(*(self._look_up(r) for r in missing))
            except TimeoutError:
                log.warning("web pages: Slack took too long to give %d names; IDs shown instead", len(missing))
        found = {r: self._known[r][1] for r in wanted if r in self._known}
        return {r: name for r, name in found.items() if name}

    def _fresh(self, user_id: str, now: float) -> bool:
        cached = self._known.get(user_id)
        if cached is None:
            return False
        lifetime = REMEMBER_SECONDS if cached[1] else FORGET_FAILURE_SECONDS
        return now - cached[0] < lifetime

    async def _look_up(self, user_id: str) -> None:
        try:
            answer = await self.client.users_info(user=user_id)
            user = answer.get("user") or {}
            profile = user.get("profile") or {}
            name = profile.get("display_name") or user.get("real_name") or user.get("name") or None
        except (SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.debug("web pages: no name for %s: %s", user_id, exc)
            name = None
        if len(self._known) >= MAX_REMEMBERED:
            self._known.clear()
        self._known[user_id] = (self.monotonic(), str(name)[:80] if name else None)
