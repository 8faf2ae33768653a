"""Block Kit primitives and every Slack limit they enforce: sections, context, buttons, inputs, dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.incidents import Incident
from bot.domain.slack_values import Blocks as Blocks  # re-exported: the builders name it from here
from bot.slack.mrkdwn import escape, is_channel_id, trim

CONTROLS_BLOCK = "incident_controls"

# Slack's documented limits (slack-sdk's model validators agree).
MAX_BLOCKS_MESSAGE = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40_000
MAX_TOPIC = 250


def channel_link(channel_id: str | None, fallback: str = "(channel pending)") -> str:
    """A channel link Slack renders with the channel's current name; `fallback` (mrkdwn) without one, and
    anything that is not a channel ID shown inert."""
    if not channel_id:
        return fallback
    return f"<#{channel_id}>" if is_channel_id(channel_id) else escape(channel_id)


def slack_date(when: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{fmt}|{fallback}>"


def _text(text: str, *, mrkdwn: bool = True) -> dict[str, Any]:
    return {"type": "mrkdwn" if mrkdwn else "plain_text", "text": text}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": trim(text, limit, "…"), "emoji": True}


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section, trimmed to Slack's 3000 characters."""
    return {"type": "section", "text": _text(trim(text, MAX_SECTION_TEXT))}


def context(*parts: str) -> dict[str, Any]:
    """A context block (at most 10 elements)."""
    return {"type": "context", "elements": [_text(trim(p, MAX_SECTION_TEXT)) for p in parts[:10]]}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button within Slack's text and value limits."""
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": value[:150]}


def incident_title_line(incident: Incident) -> str:
    """`INC-7: Checkout errors`, escaped for mrkdwn."""
    return f"{incident.reference}: {escape(incident.title)}"


def form_input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """An input block of a form around any element (its action_id is `value`)."""
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label, 2000),
        "element": element,
    }


def text_input(block_id: str, label: str, *, multiline: bool = False, optional: bool = False) -> dict[str, Any]:
    """A text input of a form, within Slack's 3000-character limit."""
    element = {"type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": 2900}
    return form_input(block_id, label, element, optional=optional)
