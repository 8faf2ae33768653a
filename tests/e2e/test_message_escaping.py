"""What `/incident` answers shows its `<placeholders>` as text: Slack would read a bare `<text>` as markup."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import StartTocsin, settle
from tests.slack_double import SlackDouble
from tests.slack_double.escaping import escaping_errors


def private_answers(double: SlackDouble, user_id: str) -> list[dict[str, Any]]:
    """Everything sent to `user_id` alone, as sent: response_url bodies and ephemerals."""
    return [r for r in double.responses if r["user_id"] == user_id] + [
        e for e in double.ephemerals if e["user"] == user_id
    ]


def general(double: SlackDouble) -> str:
    channel = double.find_channel_named("general")
    assert channel is not None
    return channel.id


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_help_shows_its_placeholders_as_text(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    await double.slash_command("U0ALICE", general(double), "help", via=transport)
    await settle(tocsin)
    (answer,) = private_answers(double, "U0ALICE")
    assert escaping_errors(answer) == []
    shown = answer["text"] + "".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    for placeholder in ("title", "role", "1-4", "service", "text", "investigating|identified|monitoring|resolved"):
        assert f"&lt;{placeholder}&gt;" in shown and f"<{placeholder}>" not in shown


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_a_refusal_shows_the_usage_placeholders_as_text(
    double: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    tocsin = await start_tocsin(sqlite_url, transport=transport)
    ack = await double.slash_command("U0ALICE", general(double), "status", via=transport)
    await settle(tocsin)
    answers: list[Any] = [ack.body] if ack.text else []
    answers += private_answers(double, "U0ALICE")
    (answer,) = answers
    assert escaping_errors(answer) == []
    assert "Usage: `/incident status &lt;investigating|identified|monitoring|resolved&gt;`" in answer["text"]
