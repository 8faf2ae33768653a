"""Slack's escaping rules for the text of messages and views ("Formatting text for app surfaces").

In mrkdwn (and a message's `text`), `&`, `<` and `>` are control characters: shown as themselves only when
written `&amp;`, `&lt;`, `&gt;`. A `<…>` is read as one of Slack's controls — a mention, a channel, a
special mention, a date or a link — and anything else in angle brackets is garbage or a link. A line's
leading `>` is a block quote. plain_text is not parsed, so an entity there is shown as typed (`&lt;`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_LABEL = r"(?:\|[^<>|]*)?"
CONTROLS = (
    re.compile(rf"@[UW][A-Z0-9]+{_LABEL}"),  # a user: <@U123> or <@U123|bob>
    re.compile(rf"#[CGD][A-Z0-9]+{_LABEL}"),  # a channel: <#C123> or <#C123|ops>
    re.compile(rf"!(?:here|channel|everyone){_LABEL}"),  # special mentions
    re.compile(rf"!subteam\^S[A-Z0-9]+{_LABEL}"),  # a user group
    re.compile(r"!date\^\d+\^[^<>|^]+(?:\^[^<>|^\s]+)?\|[^<>|]+"),  # <!date^epoch^format(^link)|fallback>
    re.compile(rf"(?:https?://|mailto:)[^\s<>|]+{_LABEL}"),  # a link, optionally labelled
)
_ANGLED = re.compile(r"<([^<>\n]*)>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_QUOTE = re.compile(r"^>", re.MULTILINE)
_DOUBLE_ESCAPED = re.compile(r"&(?:amp|lt|gt);")


def is_control(inner: str) -> bool:
    """Whether `<inner>` is one of Slack's controls."""
    return any(pattern.fullmatch(inner) for pattern in CONTROLS)


def mrkdwn_errors(text: str, *, forbidden: Iterable[str] = (), where: str = "") -> list[str]:
    """Every way `text`, read as mrkdwn, breaks Slack's escaping rules; `forbidden` are controls that
    must not appear at all (user text that would have become a mention, a broadcast or a link)."""
    errors: list[str] = []
    for control in forbidden:
        if control in text:
            errors.append(f"{where}: user text became the control {control!r} in {_excerpt(text, control)!r}")
    rest = []
    last = 0
    for match in _ANGLED.finditer(text):
        if not is_control(match.group(1)):
            errors.append(f"{where}: {match.group(0)[:60]!r} is not a Slack control (write &lt; and &gt;)")
        rest.append(text[last : match.start()])
        last = match.end()
    rest.append(text[last:])
    outside = "\0".join(rest)  # the text between controls, each control cut out
    for label in (m.group(1).partition("|")[2] for m in _ANGLED.finditer(text)):
        outside += "\0" + label  # a control's label is shown: its & must be an entity too
    if "<" in outside:
        errors.append(f"{where}: a bare '<' in {_excerpt(text, '<')!r}")
    if ">" in _QUOTE.sub("", outside):
        errors.append(f"{where}: a bare '>' (not a quote's) in {_excerpt(text, '>')!r}")
    if "&" in _ENTITY.sub("", outside):
        errors.append(f"{where}: a bare '&' (write &amp;) in {_excerpt(text, '&')!r}")
    return errors


def plain_text_errors(text: str, *, where: str = "") -> list[str]:
    """plain_text is shown as is: an entity in it means text was escaped for mrkdwn by mistake."""
    if found := _DOUBLE_ESCAPED.search(text):
        return [f"{where}: plain_text shows {found.group(0)!r} literally in {_excerpt(text, found.group(0))!r}"]
    return []


def escaping_errors(payload: Any, *, forbidden: Iterable[str] = (), where: str = "") -> list[str]:
    """Every escaping error in what Tocsin sends: a message `text` (a str), a `(text, blocks)` pair, a list
    of them, blocks, a view, or a message body (`text` beside `blocks`); text objects by their type."""
    forbidden = tuple(forbidden)
    if isinstance(payload, str):
        return mrkdwn_errors(payload, forbidden=forbidden, where=where or "text")
    errors: list[str] = []
    if isinstance(payload, list | tuple):
        for index, part in enumerate(payload):
            errors += escaping_errors(part, forbidden=forbidden, where=f"{where}/{index}")
        return errors
    if not isinstance(payload, dict):
        return errors
    kind, text = payload.get("type"), payload.get("text")
    if kind == "mrkdwn" and isinstance(text, str):
        return mrkdwn_errors(text, forbidden=forbidden, where=where)
    if kind == "plain_text" and isinstance(text, str):
        return plain_text_errors(text, where=where)
    for key, value in payload.items():
        if key == "text" and isinstance(value, str):  # a message body's text: mrkdwn
            errors += mrkdwn_errors(value, forbidden=forbidden, where=f"{where}/text")
        elif isinstance(value, dict | list):
            errors += escaping_errors(value, forbidden=forbidden, where=f"{where}/{key}")
    return errors


def _excerpt(text: str, near: str) -> str:
    at = max(0, text.find(near))
    return text[max(0, at - 30) : at + 50]
