"""The double's views.update and views.push, as Slack's reference documents them (arguments, errors,
scopes); mixed into SlackDouble."""

from __future__ import annotations


class ViewMethods:
    """Methods `m_<method_with_underscores>(args) -> dict` the double dispatches to."""
