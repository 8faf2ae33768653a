"""The double's usergroups.list and usergroups.users.update, as Slack's reference documents them
(arguments, errors, scopes); mixed into SlackDouble."""

from __future__ import annotations


class UserGroupMethods:
    """Methods `m_<method_with_underscores>(args) -> dict` the double dispatches to."""
