"""Slack's text formats: escaping user text for mrkdwn, reading Slack-escaped input, visible trimming."""

from __future__ import annotations

import re

TRIM_NOTE = " … (trimmed)"
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: no mentions, no links, no broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_from_slack(text: str) -> str:
    """Slack-escaped input (`<@U1|bob>`, `<!here>`, `<#C1|ops>`, `&amp;`) as plain readable text."""

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^", 1)[0])
        return label or target

    unwrapped = _SLACK_TOKEN.sub(readable, text)
    for entity, char in _ENTITY.items():
        unwrapped = unwrapped.replace(entity, char)
    return unwrapped


def quoted(text: str, limit: int = 40) -> str:
    """What someone typed (as Slack sends it), quoted back in a reply: readable, cut to `limit`, inert."""
    return f"“{escape(plain_from_slack(text)[:limit])}”"


def trim(text: str, limit: int, note: str = TRIM_NOTE) -> str:
    """Cut `text` to `limit` characters, saying visibly that it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(note))].rstrip() + note
