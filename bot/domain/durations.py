"""Durations as the policy file writes them: `45s`, `15m`, `2h`, `1d`, or combined like `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"^(?:\d+[smhd])+$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Parse `45s` / `15m` / `2h` / `1d` (or a sequence of them) into a timedelta."""
    compact = text.strip().lower().replace(" ", "")
    if not _WHOLE.match(compact):
        raise ValueError(f"{text!r} is not a duration; write it like 45s, 15m, 2h or 1d")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(compact)))


def format_duration(value: timedelta) -> str:
    """Write a timedelta back in the policy's notation, largest units first."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _coerce(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, timedelta):
        return value
    raise ValueError("write durations like 45s, 15m, 2h or 1d")


Duration = Annotated[timedelta, BeforeValidator(_coerce), PlainSerializer(format_duration, return_type=str)]
