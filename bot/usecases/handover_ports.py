"""The store of handover notes, handoffs seen, round-robin turns, user-group syncs (`uow.handovers`), and
what else handovers need from outside: Slack's user groups, the digest's messages, whether a person can
be reached beyond Slack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.domain.handovers import Digest, FiringAlert, HandoverNote, OpenIncident, ShiftPage
from bot.domain.slack_values import Blocks

if TYPE_CHECKING:  # types only
    from bot.domain.policy import Policy
    from bot.usecases.ports import UnitOfWork


class HandoverStore(Protocol):
    """Handover notes, handoffs seen, round-robin turns, user-group syncs."""

    async def add_note(self, schedule: str, *, author: str, text: str, now: datetime) -> None:
        """Keep a note for `schedule`'s next handover."""
        ...

    async def notes(self, schedule: str, *, since: datetime | None, until: datetime) -> list[HandoverNote]:
        """The notes left for `schedule` in [since, until), oldest first."""
        ...

    async def holder(self, schedule: str) -> tuple[str | None, datetime] | None:
        """Who was last seen on call for `schedule` and since when (None: never looked at)."""
        ...

    async def first_look(self, schedule: str, *, holder: str | None, now: datetime) -> bool:
        """Record who is on call for a schedule never looked at before; whether this call did."""
        ...

    async def hand_over(self, schedule: str, *, expected: str | None, incoming: str | None, now: datetime) -> bool:
        """Record `incoming` as on call if `expected` still is (one replica wins); whether this call did."""
        ...

    async def next_turn(self, tier_key: str) -> int:
        """Take a round-robin tier's next turn (0, 1, 2…), atomically across replicas."""
        ...

    async def pick(self, page_id: int, tier: int) -> str | None:
        """Whom a page's round-robin tier notified already, if anyone."""
        ...

    async def keep_pick(self, page_id: int, tier: int, user_id: str) -> None:
        """Remember whom a page's round-robin tier notifies."""
        ...

    async def shift_pages(self, schedule: str, *, since: datetime | None, until: datetime) -> list[ShiftPage]:
        """Pages created in [since, until) whose plan paged `schedule`, oldest first."""
        ...

    async def open_incidents(self, services: Collection[str]) -> list[OpenIncident]:
        """The open incidents of `services`, most recent first."""
        ...

    async def firing_alerts(self, schedule: str, services: Collection[str]) -> list[FiringAlert]:
        """Alerts still firing whose `service` label is one of `services` or whose page paged `schedule`."""
        ...

    async def synced(self, schedule: str, *, usergroup: str, users: Sequence[str], outcome: str, now: datetime) -> None:
        """Record how setting a schedule's user group went."""
        ...


class UserGroups(Protocol):
    """Slack's user groups (usergroups.list, usergroups.users.update); failures raise SlackError."""

    async def group_id(self, ref: str) -> str | None:
        """The ID of the group `ref` names (an S… ID as is, or a handle looked up); None: no such group."""
        ...

    async def set_members(self, group_id: str, user_ids: Sequence[str]) -> None:
        """Make `user_ids` the group's only members."""
        ...


class HandoverViews(Protocol):
    """The messages handovers send (bot/slack/blocks/handovers.py)."""

    def digest(self, digest: Digest, *, reader: str | None, unreachable: bool = False) -> tuple[str, Blocks]:
        """A handoff's digest for `reader` (the incoming or outgoing user ID; None: the handover channel),
        warning an incoming person who cannot be reached beyond Slack (`unreachable`)."""
        ...

    def sync_failed(self, schedule: str, usergroup: str, error: str) -> tuple[str, Blocks]:
        """A schedule's user group could not be set to whoever is on call."""
        ...


# Whether someone has a verified way to be reached beyond Slack (bot/usecases/contacts.py, helper C's).
ReachableBeyondSlack = Callable[["UnitOfWork", "Policy", str], Awaitable[bool]]
