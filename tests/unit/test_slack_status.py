"""Slack's state as /readyz reports it: why it is not ok, told apart (unreachable, not authenticated,
unavailable), and an outage logged once, naming the URL (never a token), until it ends."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime.slack_status import AUTH_TEST, SlackStatus, classify


def refused(error: str, status: int = 200) -> SlackApiError:
    response: Any = AsyncSlackResponse(
        client=None, http_verb="POST", api_url="x", req_args={}, data={"ok": False, "error": error}, headers={},
        status_code=status,
    )  # fmt: skip
    return SlackApiError(error, response)  # type: ignore[no-untyped-call]


def refused_connection() -> aiohttp.ClientConnectorError:
    key: Any = type("Key", (), {"ssl": None, "host": "127.0.0.1", "port": 9})()
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))


def test_why_slack_is_not_ok_is_told_apart() -> None:
    assert classify(refused("invalid_auth")) == ("not authenticated", "invalid_auth")
    assert classify(refused("service_unavailable", 503)) == ("unavailable", "service_unavailable")
    assert classify(refused_connection()) == ("unreachable", "cannot connect (Connection refused)")
    assert classify(TimeoutError()) == ("unreachable", "no answer in time (TimeoutError)")


def test_an_outage_is_one_line_naming_the_url_until_slack_answers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime.slack_status")
    status = SlackStatus("https://user:secret@slack.example/api/")
    assert status.report() == {"slack": "connecting"} and not status.ok
    for _ in range(5):
        status.failed(refused_connection(), AUTH_TEST)
    status.failed(refused_connection(), "Socket Mode")  # the same outage seen by another call
    assert status.report() == {"slack": "unreachable", "slack_reason": "cannot connect (Connection refused)"}
    status.failed(refused("invalid_auth"), AUTH_TEST)  # a different reason is a new line
    assert status.report() == {"slack": "not authenticated", "slack_reason": "invalid_auth"}
    status.answered(AUTH_TEST)
    assert status.report() == {"slack": "unreachable", "slack_reason": "cannot connect (Connection refused)"}
    status.answered("Socket Mode")
    assert status.report() == {"slack": "ok"} and status.ok
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and lines[-1] == "Slack at https://user:***@slack.example/api/ answers again"
    assert all("secret" not in line and "slack.example/api/" in line for line in lines)
    assert "is unreachable for auth.test (cannot connect (Connection refused))" in lines[0]
