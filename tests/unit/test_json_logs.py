"""JSON log lines carry an ISO 8601 timestamp in UTC, whatever the host's time zone."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime import logs


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """The process runs in a zone eleven hours from UTC (and the root logger is put back afterwards)."""
    before_tz = os.environ.get("TZ")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    os.environ["TZ"] = "Pacific/Auckland"
    time.tzset()
    try:
        yield
    finally:
        if before_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before_tz
        time.tzset()
        root.handlers[:] = handlers
        root.setLevel(level)


def test_a_json_line_says_when_in_utc_to_the_millisecond(far_from_utc: None) -> None:
    logs.configure("INFO", "json")
    (handler,) = logging.getLogger().handlers
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "INC-%d declared", (7,), None)
    record.created = datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC).timestamp()
    line = json.loads(handler.format(record))
    assert line["timestamp"] == "2026-11-24T10:00:00.123Z"
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() == timedelta(0)
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "bot", "INC-7 declared")


def test_every_json_line_is_one_object_with_a_utc_timestamp(far_from_utc: None) -> None:
    logs.configure("INFO", "json")
    (handler,) = logging.getLogger().handlers
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    logs.event(logging.getLogger("bot"), "INC-1 resolved", incident="INC-1", actor="U0ALICE")
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["timestamp"].endswith("Z") and record["incident"] == "INC-1" and record["actor"] == "U0ALICE"
    assert datetime.fromisoformat(record["timestamp"]).utcoffset() == timedelta(0)
