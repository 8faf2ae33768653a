"""Incident channel names: `<prefix>-<number>-<slug>`, always a valid Slack channel name.

Slack's rules: lowercase letters, digits, `-` and `_`, at most 80 characters.
"""

from __future__ import annotations

import re

from anyascii import anyascii

MAX_CHANNEL_NAME = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")
_VALID = re.compile(r"^[a-z0-9_-]{1,80}$")
# Room kept at the end of the name for the "-2", "-3"… added when a name is taken.
_SUFFIX_ROOM = 4


def slugify(title: str) -> str:
    """A readable ASCII slug of any title: accents dropped, CJK romanised, emoji named."""
    ascii_text = anyascii(title).lower()
    return _NOT_ALLOWED.sub("-", ascii_text).strip("-")


def channel_name(prefix: str, number: int, title: str, *, attempt: int = 1) -> str:
    """The channel name for an incident; `attempt` > 1 adds a suffix after `name_taken`."""
    base = f"{prefix}-{number}"
    suffix = "" if attempt <= 1 else f"-{attempt}"
    room = MAX_CHANNEL_NAME - len(base) - 1 - _SUFFIX_ROOM
    slug = _shorten(slugify(title), room)
    name = f"{base}-{slug}" if slug else base
    return (name + suffix)[:MAX_CHANNEL_NAME]


def private_channel_name(prefix: str, number: int, suffix: str, *, attempt: int = 1) -> str:
    """A private incident's channel name, `<prefix>-<number>-<suffix>`: it never carries the title."""
    name = f"{prefix}-{number}-{suffix}"
    return (name if attempt <= 1 else f"{name}-{attempt}")[:MAX_CHANNEL_NAME]


def is_valid_channel_name(name: str) -> bool:
    """Whether Slack would accept `name` for conversations.create."""
    return bool(_VALID.match(name))


def _shorten(slug: str, room: int) -> str:
    if len(slug) <= room:
        return slug
    cut = slug[:room]
    # Prefer ending on a whole word when that keeps at least half of the room.
    boundary = cut.rfind("-")
    if boundary >= room // 2:
        cut = cut[:boundary]
    return cut.strip("-")
