"""Channels' member lists as Slack last gave them, each trusted for a short while and forgotten as soon as
Tocsin changes the membership itself (an invite)."""

from __future__ import annotations

import time
from collections.abc import Callable

MEMBERS_TTL_SECONDS = 30.0  # how long a channel's member list is trusted before asking Slack again
MAX_REMEMBERED_CHANNELS = 1000


class MemberCache:
    """Member lists by channel ID."""

    def __init__(self, ttl: float = MEMBERS_TTL_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Trust each list for `ttl` seconds of `monotonic` time."""
        self.ttl = ttl
        self._monotonic = monotonic
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def get(self, channel_id: str) -> frozenset[str] | None:
        """The channel's members, if known and fresh."""
        cached = self._members.get(channel_id)
        if cached is not None and self._monotonic() - cached[0] < self.ttl:
            return cached[1]
        return None

    def put(self, channel_id: str, members: frozenset[str]) -> None:
        """Remember what Slack just said (dropping stale lists when many are remembered)."""
        now = self._monotonic()
        if len(self._members) >= MAX_REMEMBERED_CHANNELS:
            self._members = {k: v for k, v in self._members.items() if now - v[0] < self.ttl}
        self._members[channel_id] = (now, members)

    def forget(self, channel_id: str) -> None:
        """Membership changed (someone joined, left or was invited): ask Slack next time."""
        self._members.pop(channel_id, None)
