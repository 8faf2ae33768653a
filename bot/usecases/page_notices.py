"""Paging's lines in channels (the incident's, the broadcast channel): who is being paged, who acknowledged,
that nobody did. Paging goes on when one of them fails. Part of paging (paging.py)."""

from __future__ import annotations

import logging

from bot.domain.errors import slack_error
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Slack

log = logging.getLogger("bot.usecases.paging")


async def post_notice(slack: Slack, messages: Messages, channel: str, text: str) -> None:
    """Post `text` in `channel`; a failure (or a delay Slack gives up on) is logged, never raised."""
    try:
        await slack.post(channel, text, [messages.section(text)])
    except Exception as exc:  # paging goes on even when a channel post fails or is delayed
        log.warning("paging notice to %s failed: %s", channel, slack_error(exc))
