"""Cursors: where a page ended, as an opaque string (URL-safe base64 of a small JSON object: the sort key
and id of the page's last item). A cursor that cannot be read, or was made for another sort, is a
malformed request (400)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from bot.entrypoints.api.problems import ApiError

_MALFORMED = "the cursor is not one this API gave out (pass next_cursor back as it was)"
MAX_KEY = 2**31 - 1  # the database's integer: ids, numbers and positions all fit in it


def encode(fields: dict[str, Any]) -> str:
    """An opaque cursor holding `fields`."""
    raw = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Any]:
    """The fields a cursor holds; ApiError 400 when it is not a cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise ApiError(400, _MALFORMED) from None
    if not isinstance(fields, dict):
        raise ApiError(400, _MALFORMED)
    return fields


def incident_cursor(sort: str, value: datetime | int, last_id: int) -> str:
    """Where an incident list sorted by `sort` ended: its last item's sort value and id."""
    shown = value.isoformat() if isinstance(value, datetime) else value
    return encode({"sort": sort, "value": shown, "id": last_id})


def incident_key(cursor: str, sort: str) -> tuple[datetime | int, int]:
    """The (sort value, id) an incident cursor holds; 400 when it was made for another sort."""
    fields = decode(cursor)
    if fields.get("sort") != sort:
        raise ApiError(400, "the cursor was made for another sort order; keep `sort` the same while paging")
    value = fields.get("value")
    if sort.removeprefix("-") == "number":
        return _whole(value), _whole(fields.get("id"))
    return _moment(value), _whole(fields.get("id"))


def timeline_cursor(occurred_at: datetime, entry_id: int) -> str:
    """Where a page of a timeline ended."""
    return encode({"at": occurred_at.isoformat(), "id": entry_id})


def timeline_key(cursor: str) -> tuple[datetime, int]:
    """The (time, id) a timeline cursor holds."""
    fields = decode(cursor)
    return _moment(fields.get("at")), _whole(fields.get("id"))


def id_cursor(last_id: int) -> str:
    """Where a list ordered by id ended."""
    return encode({"id": last_id})


def id_key(cursor: str) -> int:
    """The id an id cursor holds."""
    return _whole(decode(cursor).get("id"))


def event_cursor(seq: int) -> str:
    """A position in the event log."""
    return encode({"seq": seq})


def event_key(cursor: str) -> int:
    """The position an event cursor holds."""
    return _whole(decode(cursor).get("seq"))


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_KEY:
        raise ApiError(400, _MALFORMED)
    return value


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise ApiError(400, _MALFORMED)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, _MALFORMED) from None
    if moment.tzinfo is None:
        raise ApiError(400, _MALFORMED)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ApiError(400, _MALFORMED) from None
