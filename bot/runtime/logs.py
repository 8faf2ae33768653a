"""Logging: one line per thing that happened, as text or as one JSON object per line (LOG_FORMAT=json),
with the event's fields (incident, actor, team); library chatter kept out of INFO."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EVENT_FIELDS = ("incident", "actor", "team")
# Libraries whose INFO lines describe their own machinery (scheduler jobs run, migration plugins set up,
# sockets opened): an operator wants what Tocsin did, so they speak from WARNING up.
QUIET_LOGGERS = ("apscheduler", "alembic", "slack_bolt", "slack_sdk", "aiohttp.access")


class _JsonLines(JsonFormatter):
    """One JSON object per line, its timestamp in ISO 8601 and UTC (`2026-11-24T10:00:00.123Z`) whatever the
    host's time zone, so lines from several replicas and hosts sort and join as they are."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time in UTC, to the millisecond."""
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Quieter(logging.Filter):
    """Drops Bolt's notice that an explicit `authorize` makes its token unused (it is meant to be), and
    keeps expected connection failures to one line (no traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` (or SLACK_BOT_TOKEN env variable) will be ignored" in message:
            return False
        if "`token` will be unused" in message:  # Bolt reads SLACK_BOT_TOKEN itself; the client has it
            return False
        if message.startswith("Failed to connect") and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


def configure(level: str, fmt: str = "text") -> None:
    """Send logs to stderr at `level`, as text or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            _JsonLines(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_Quieter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    logging.getLogger("bot.bolt").setLevel(quiet)


def event(logger: logging.Logger, message: str, *args: Any, **fields: Any) -> None:
    """Log one thing that happened at INFO, with its fields (incident, actor, team…) for JSON logs."""
    logger.info(message, *args, extra={k: v for k, v in fields.items() if v is not None})


class Outage:
    """Something probed every few seconds (a health check, a metrics scrape) that can fail for a while: one
    warning when it starts failing, one line when it answers again, nothing in between."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        """`what` names it in the log lines ("health check: the database")."""
        self._log, self._what, self._failing = logger, what, False

    def failed(self, reason: str) -> None:
        """It failed now (logged only if it was answering before)."""
        if not self._failing:
            self._log.warning("%s did not answer (%s); said once until it answers again", self._what, reason)
        self._failing = True

    def answered(self) -> None:
        """It answered now (logged only if it was failing before)."""
        if self._failing:
            self._log.info("%s answers again", self._what)
        self._failing = False
