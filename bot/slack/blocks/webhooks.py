"""Block Kit for outgoing webhooks: a receiver that keeps failing, and the same receiver answering again,
each said once in the broadcast channel. They name the receiver by its scheme, host and port only (its
path or query may hold a token) and say nothing of the events held back (some may be private)."""

from __future__ import annotations

from datetime import datetime

from bot.slack.blocks.primitives import Blocks, context, section, slack_date
from bot.slack.mrkdwn import code, escape


def webhook_failing(where: str, *, when: datetime, reason: str) -> tuple[str, Blocks]:
    """A webhook receiver that has failed every delivery since `when` (`reason`: its latest failure)."""
    head = (
        f":warning: *The webhook receiver {code(where)} has been failing since {slack_date(when, '{time}')}* "
        f"({escape(reason)}). Tocsin keeps each event and tries it again with backoff, in order per incident, "
        "for 24 hours after it happened."
    )
    text = f":warning: The webhook receiver {where} has been failing since {when:%H:%M} UTC ({reason})"
    return escape(text), [section(head), context("Said once per outage; another message says when it answers again.")]


def webhook_recovered(where: str, *, when: datetime) -> tuple[str, Blocks]:
    """A webhook receiver reported failing (since `when`) answers again."""
    line = (
        f":white_check_mark: *The webhook receiver {code(where)} answers again* (failing since "
        f"{slack_date(when, '{time}')}). The events held back are being delivered, in order."
    )
    return escape(f":white_check_mark: The webhook receiver {where} answers again"), [section(line)]
