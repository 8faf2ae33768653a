"""The double's bookmarks.add/edit/remove/list, conversations.rename and conversations.unarchive (refused
to bots), as Slack's reference documents them (arguments, errors, scopes); mixed into SlackDouble.

- bookmarks.*: `channel_id`; add takes `title` and `type` (only `link` here, with an http(s) `link`, else
  `invalid_link`) and an optional `emoji`; edit and remove name a `bookmark_id` of that channel (else
  `not_found`). The bot must be in the channel (`not_in_channel`), which must not be archived
  (`is_archived`); a channel holds at most MAX_BOOKMARKS (`too_many_bookmarks`). `refuse_bookmarks` plays
  a workspace that refuses them all (a free plan's `restricted_action`, say).
- conversations.rename: the rules of conversations.create's names, `name_taken`, `not_in_channel`,
  `is_archived`.
- conversations.unarchive: a bot token cannot unarchive (`method_not_supported_for_channel_type` for an
  archived channel, `not_archived` otherwise): Slack keeps that to people.
"""

from __future__ import annotations

import re
import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # types only: server.py mixes this class in
    from tests.slack_double.server import Channel

MAX_BOOKMARKS = 100
_LINK = re.compile(r"^https?://\S+$")
SCOPES = {
    "bookmarks.add": {"bookmarks:write"},
    "bookmarks.edit": {"bookmarks:write"},
    "bookmarks.remove": {"bookmarks:write"},
    "bookmarks.list": {"bookmarks:read"},
    "conversations.rename": {"channels:manage"},
    "conversations.unarchive": {"channels:manage"},
}
TIERS = {
    "bookmarks.add": 20,
    "bookmarks.edit": 20,
    "bookmarks.remove": 20,
    "bookmarks.list": 50,
    "conversations.rename": 20,
    "conversations.unarchive": 20,
}


class ChannelContextMethods:
    """Methods `m_<method_with_underscores>(args) -> dict` the double dispatches to."""

    refuse_bookmarks: str | None = None  # an error every bookmarks.* call answers (e.g. restricted_action)
    _bookmark_ids: ClassVar[list[int]] = [0]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """The double's module gains these methods' scopes and rate tiers as the double is defined."""
        super().__init_subclass__(**kwargs)
        server = sys.modules[cls.__module__]
        server.METHOD_SCOPES.update(SCOPES)
        server.METHOD_TIERS.update(TIERS)

    # ----- what tests look at -----------------------------------------------------------------------
    def bookmarks_in(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's bookmarks, oldest first."""
        return list(self._bookmarks().get(channel_id, []))

    def _bookmarks(self) -> dict[str, list[dict[str, Any]]]:
        kept: dict[str, list[dict[str, Any]]] | None = self.__dict__.get("_bookmark_store")
        if kept is None:
            kept = self.__dict__["_bookmark_store"] = {}
        return kept

    # ----- bookmarks.* -----------------------------------------------------------------------------
    def _bookmark_channel(self, args: dict[str, Any]) -> Channel:
        error = _server().SlackError
        channel: Channel = self._channel(args, "channel_id")  # type: ignore[attr-defined]
        if self.refuse_bookmarks:
            raise error(self.refuse_bookmarks)
        if self.bot_user_id not in channel.members:  # type: ignore[attr-defined]
            raise error("not_in_channel")
        if channel.is_archived:
            raise error("is_archived")
        return channel

    def m_bookmarks_add(self, args: dict[str, Any]) -> dict[str, Any]:
        error = _server().SlackError
        channel = self._bookmark_channel(args)
        title, kind, link = args.get("title"), args.get("type"), args.get("link")
        if not title or not kind:
            raise error("invalid_arguments")
        if kind != "link":
            raise error("invalid_bookmark_type")
        if not isinstance(link, str) or not _LINK.match(link):
            raise error("invalid_link")
        listed = self._bookmarks().setdefault(channel.id, [])
        if len(listed) >= MAX_BOOKMARKS:
            raise error("too_many_bookmarks")
        self._bookmark_ids[0] += 1
        now = int(time.time())
        bookmark = {
            "id": f"Bk{self._bookmark_ids[0]:08d}",
            "channel_id": channel.id,
            "title": str(title),
            "link": link,
            "emoji": args.get("emoji") or "",
            "icon_url": None,
            "type": "link",
            "entity_id": None,
            "date_created": now,
            "date_updated": 0,
            "rank": chr(ord("a") + min(len(listed), 25)),
            "last_updated_by_user_id": self.bot_user_id,  # type: ignore[attr-defined]
            "last_updated_by_team_id": self.team_id,  # type: ignore[attr-defined]
            "shortcut_id": None,
            "app_id": "A0TOCSIN",
        }
        listed.append(bookmark)
        return {"bookmark": dict(bookmark)}

    def _bookmark(self, channel: Channel, args: dict[str, Any]) -> dict[str, Any]:
        found = next((b for b in self._bookmarks().get(channel.id, []) if b["id"] == args.get("bookmark_id")), None)
        if found is None:
            raise _server().SlackError("not_found")
        return found

    def m_bookmarks_edit(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._bookmark_channel(args)
        bookmark = self._bookmark(channel, args)
        link = args.get("link")
        if link is not None and (not isinstance(link, str) or not _LINK.match(link)):
            raise _server().SlackError("invalid_link")
        for key in ("title", "link", "emoji"):
            if args.get(key) is not None:
                bookmark[key] = args[key]
        bookmark["date_updated"] = int(time.time())
        return {"bookmark": dict(bookmark)}

    def m_bookmarks_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._bookmark_channel(args)
        bookmark = self._bookmark(channel, args)
        self._bookmarks()[channel.id].remove(bookmark)
        return {}

    def m_bookmarks_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channel: Channel = self._channel(args, "channel_id")  # type: ignore[attr-defined]
        if self.refuse_bookmarks:
            raise _server().SlackError(self.refuse_bookmarks)
        return {"bookmarks": [dict(b) for b in self._bookmarks().get(channel.id, [])]}

    # ----- conversations.rename / unarchive -------------------------------------------------------
    def m_conversations_rename(self, args: dict[str, Any]) -> dict[str, Any]:
        server = _server()
        channel: Channel = self._channel(args)  # type: ignore[attr-defined]
        if self.bot_user_id not in channel.members:  # type: ignore[attr-defined]
            raise server.SlackError("not_in_channel")
        if channel.is_archived:
            raise server.SlackError("is_archived")
        name = str(args.get("name") or "")
        if not name:
            raise server.SlackError("invalid_name_required")
        if len(name) > 80:
            raise server.SlackError("invalid_name_maxlength")
        if not server.CHANNEL_NAME.match(name):
            raise server.SlackError("invalid_name_specials")
        taken = self.find_channel_named(name)  # type: ignore[attr-defined]
        if taken is not None and taken.id != channel.id:
            raise server.SlackError("name_taken")
        channel.name = name
        return {"channel": server._channel_json(channel, self.bot_user_id)}  # type: ignore[attr-defined]

    def m_conversations_unarchive(self, args: dict[str, Any]) -> dict[str, Any]:
        server = _server()
        channel: Channel = self._channel(args)  # type: ignore[attr-defined]
        if not channel.is_archived:
            raise server.SlackError("not_archived")
        raise server.SlackError("method_not_supported_for_channel_type")  # bot tokens cannot unarchive


def _server() -> Any:
    """The double's module (loaded by the time any method runs)."""
    return sys.modules["tests.slack_double.server"]
