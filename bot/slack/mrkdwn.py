"""Slack's text formats: escaping user text for mrkdwn, reading Slack-escaped input, visible trimming."""

from __future__ import annotations

import re
from typing import TypeGuard

from bot.domain.user_refs import token_name

TRIM_NOTE = " … (trimmed)"
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{1,31}$")
# What a cut must not split: an entity (`&amp;`) or a Slack control (`<@U1>`, `<https://…|label>`).
_UNCUTTABLE = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]*>")
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$", re.IGNORECASE)
MAX_URL = 2000


def escape(text: str) -> str:
    """Make any text shown as is (user text, and fixed text such as `<title>`) inert in mrkdwn: no mentions,
    no links, no broadcasts. Only for mrkdwn and `text` fallbacks: plain_text objects show `&lt;` as is."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Literal text as inline code, escaped: `/incident note <text>` keeps its placeholders visible."""
    return f"`{escape(text)}`"


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
    """Cut `text` to `limit` characters, saying visibly that it was cut; never inside an entity or a
    Slack control, which would leave a bare `&` or `<` behind."""
    if len(text) <= limit:
        return text
    cut = max(0, limit - len(note))
    for unit in _UNCUTTABLE.finditer(text):
        if unit.start() >= cut:
            break
        if cut < unit.end():
            cut = unit.start()
            break
    return text[:cut].rstrip() + note


def is_user_id(value: object) -> TypeGuard[str]:
    """Whether `value` is a Slack user ID (U… or W…), the only thing safe inside `<@…>`."""
    return isinstance(value, str) and bool(_USER_ID.match(value))


def is_channel_id(value: object) -> TypeGuard[str]:
    """Whether `value` is a Slack conversation ID (C…, G… or D…), the only thing safe inside `<#…>`."""
    return isinstance(value, str) and bool(_CHANNEL_ID.match(value))


def mention(user_id: str | None) -> str:
    """A user mention, or a dash when nobody holds the role; an API token (`token:<name>`) by its name;
    anything else not a user ID is shown inert."""
    if not user_id:
        return "_unassigned_"
    if (name := token_name(user_id)) is not None:
        return f"{escape(name)} (API)"
    return f"<@{user_id}>" if is_user_id(user_id) else escape(user_id)


def safe_url(url: object) -> str | None:
    """`url` when it is a plain http(s) URL that cannot break out of a Slack link; None otherwise."""
    if not isinstance(url, str) or len(url) > MAX_URL or not _SAFE_URL.match(url):
        return None
    return url


def link(url: str | None, label: str) -> str:
    """A Slack link to `url` labelled `label` (escaped), or the label alone when the URL is not safe."""
    target = safe_url(url)
    return f"<{target}|{escape(label)}>" if target else escape(label)
