"""The double's bookmarks.add/edit/remove/list, conversations.rename and conversations.unarchive (refused
to bots), as Slack's reference documents them (arguments, errors, scopes); mixed into SlackDouble."""

from __future__ import annotations


class ChannelContextMethods:
    """Methods `m_<method_with_underscores>(args) -> dict` the double dispatches to."""
