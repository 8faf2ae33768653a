"""The store of full-text search over incidents and the links between related incidents (`uow.related`),
and the catalogue the related incidents are shown with (bot/slack/blocks/related.py satisfies it)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from bot.domain.incidents import Incident
from bot.domain.related import Candidate, Match
from bot.domain.slack_values import Blocks

MAX_BELOW = 2**31 - 1  # "every incident": an id above any stored one


class RelatedStore(Protocol):
    """Full-text search over incidents and the links between related incidents."""

    async def keep_keys(self, incident_id: int, team_id: str, keys: Iterable[str]) -> None:
        """Remember what an incident is keyed by (keys it already has are kept as they are)."""
        ...

    async def keys_of(self, incident_id: int) -> frozenset[str]:
        """What an incident is keyed by."""
        ...

    async def declare_key_of(self, incident_id: int) -> str | None:
        """The key an incident was declared under (`alert:…` when an alert declared it)."""
        ...

    async def alert_labels(self, source: str, group_key: str) -> list[dict[str, str]]:
        """The labels of each alert of an alert group (none when the group is gone)."""
        ...

    async def candidates(
        self, team_id: str, *, keys: Collection[str], terms: Sequence[str], below: int = MAX_BELOW
    ) -> list[Candidate]:
        """Incidents of the workspace numbered below `below` (by id) that share one of `keys` (the newest
        few per key) or match `terms` by full-text search (the best few, ranked by the database)."""
        ...

    async def open_since(self, team_id: str, since: datetime) -> list[Candidate]:
        """The workspace's open incidents declared since `since`, with their keys."""
        ...

    async def link(self, incident_id: int, other_id: int, *, by: str, at: datetime) -> bool:
        """Record two incidents as related, both ways; False when they already were."""
        ...

    async def linked(self, incident_id: int) -> list[Candidate]:
        """The incidents linked to `incident_id`, oldest link first."""
        ...


class RelatedViews(Protocol):
    """How related incidents are shown (Block Kit): the post in a new incident's channel, the reply to
    `/incident related`, the lines of a summary, and the offer to join an open incident instead."""

    RELATED_BLOCK: str  # with the incident's id, marks the post in its channel (found again when resumed)

    def related_message(
        self, incident: Incident, found: Sequence[Match], linked: Sequence[Candidate], *, now: datetime, intro: str
    ) -> tuple[str, Blocks]:
        """Related incidents (each with a Link button) and the ones linked already."""
        ...

    def related_lines(self, found: Sequence[Match], linked: Sequence[Candidate], *, now: datetime) -> list[str]:
        """The same as mrkdwn lines (escaped), for a summary."""
        ...

    def join_offer(self, lookalike: Incident, request: str) -> tuple[str, Blocks]:
        """The offer to join an open incident that looks like the same one, or declare anyway (`request`:
        the declare, carried by that button)."""
        ...
