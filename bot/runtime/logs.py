"""Logging: one line per thing that happened, as text or as one JSON object per line (LOG_FORMAT=json),
with the event's fields (incident, actor, team); library chatter kept out of INFO."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EVENT_FIELDS = ("incident", "actor", "team")
# Libraries whose INFO lines describe their own machinery (scheduler jobs run, migration plugins set up,
# sockets opened): an operator wants what Tocsin did, so they speak from WARNING up.
QUIET_LOGGERS = ("apscheduler", "alembic", "slack_bolt", "slack_sdk", "aiohttp.access")


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
            JsonFormatter(
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
