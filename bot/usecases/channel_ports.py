"""What the channel-context use cases ask of the outside: their store (`uow.channels`), Slack's bookmarks
and renaming, and a maker of calls (Zoom)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot.domain.archives import IncidentChannel
from bot.domain.bookmarks import Bookmark, KeptBookmark


class ChannelStore(Protocol):
    """Bookmarks kept in incident channels, archives and continuation channels."""

    async def kept_bookmarks(self, channel_id: str) -> list[KeptBookmark]:
        """The bookmarks Tocsin made in a channel."""
        ...

    async def bookmark_made(self, incident_id: int, channel_id: str, made: KeptBookmark) -> None:
        """Remember a bookmark Slack made."""
        ...

    async def bookmark_edited(self, channel_id: str, kind: str, key: str, *, title: str, link: str) -> None:
        """Remember a bookmark's new title and link."""
        ...

    async def bookmark_removed(self, channel_id: str, kind: str, key: str) -> None:
        """Forget a bookmark Slack no longer has."""
        ...

    async def alert_link(self, incident_id: int) -> str | None:
        """The link (dashboard, source) of the alert group the incident was declared from, if it had one."""
        ...

    async def remember(self, incident_id: int, channel_id: str, name: str) -> None:
        """Record a channel of the incident (kept as it is when recorded already)."""
        ...

    async def channel(self, channel_id: str) -> IncidentChannel | None:
        """A recorded channel."""
        ...

    async def channels_of(self, incident_id: int) -> list[IncidentChannel]:
        """Every channel the incident had."""
        ...

    async def change(self, channel_id: str, **values: Any) -> None:
        """Set a recorded channel's archive_due, warning_ts, kept_by, archived_at or continued_in."""
        ...

    async def first_refusal(self, channel_id: str, reason: str) -> bool:
        """Note Slack refused bookmarks in a channel; whether this is the first time."""
        ...


class ChannelBookmarks(Protocol):
    """A channel's link bookmarks in Slack (failures: SlackRefused or SlackUnreachable)."""

    async def add(self, channel_id: str, bookmark: Bookmark) -> str:
        """Add one; Slack's id for it."""
        ...

    async def edit(self, channel_id: str, bookmark_id: str, bookmark: Bookmark) -> None:
        """Change one's title, link and emoji."""
        ...

    async def remove(self, channel_id: str, bookmark_id: str) -> None:
        """Remove one (gone already is fine)."""
        ...


class ChannelRenamer(Protocol):
    """Renaming a Slack channel."""

    async def rename(self, channel_id: str, name_for: Callable[[int], str], *, current: str | None = None) -> str:
        """Rename to `name_for(1)`, else `name_for(2)`… while taken; the name it has now."""
        ...


class MeetingMaker(Protocol):
    """Makes a video meeting (Zoom); raises an error with `retryable` when it cannot."""

    async def create_meeting(self, topic: str) -> str:
        """A new meeting about `topic`; its join URL."""
        ...


class ChannelTexts(Protocol):
    """The messages of the channel context (bot/slack/blocks/channel_context.py)."""

    def bridge_reply(self, reference: str, url: str | None, *, private: bool) -> str:
        """`/incident bridge`'s answer: the call, or that there is none."""
        ...

    def bridge_line(self, url: str, actor: str | None) -> str:
        """The channel's line when the call is set or replaced."""
        ...

    def retitled_line(self, previous: str, title: str, actor: str) -> str:
        """The channel's line when the incident is retitled."""
        ...

    def archive_warning(self, incident_id: int, reference: str, *, at: datetime) -> tuple[str, list[dict[str, Any]]]:
        """The warning a day before the channel is archived, with its Keep open button."""
        ...

    def archive_kept(self, reference: str, actor: str) -> tuple[str, list[dict[str, Any]]]:
        """The warning once someone kept the channel open (no button)."""
        ...
