"""A probe that fails every few seconds logs one warning per outage, and one line when it recovers."""

from __future__ import annotations

import logging

import pytest

from bot.runtime.logs import Outage


def test_an_outage_is_one_warning_and_its_end_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="probe")
    outage = Outage(logging.getLogger("probe"), "health check: the database")
    outage.answered()
    for _ in range(20):  # twenty probes while the database is away
        outage.failed("ConnectionRefusedError")
    outage.answered()
    outage.answered()
    outage.failed("TimeoutError")  # a second outage is told again
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "health check: the database did not answer (ConnectionRefusedError); said once until it answers again",
        ),
        ("INFO", "health check: the database answers again"),
        ("WARNING", "health check: the database did not answer (TimeoutError); said once until it answers again"),
    ]
