"""Numbers and times read from outside input (block_ids, form values): ASCII digits only, in range. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ID = re.compile(r"[0-9]{1,9}")  # database ids are 32-bit; `str.isdigit` also accepts "²", which int() refuses
_EPOCH = re.compile(r"-?[0-9]{1,12}")


def parse_id(text: object) -> int | None:
    """A positive database id written in ASCII digits, or None."""
    if isinstance(text, str) and _ID.fullmatch(text) and int(text) > 0:
        return int(text)
    return None


def epoch_time(value: object) -> datetime | None:
    """A Unix time (as Slack's date-time pickers send it) as a UTC datetime, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not _EPOCH.fullmatch(str(value)):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None
