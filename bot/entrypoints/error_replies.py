"""The one mapping from errors to what the person sees: used for background work and Bolt's error hook."""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.errors import SlackError, SlackRefused, UsageError, UserError
from bot.domain.slack_values import ReplyTarget
from bot.runtime.background import StillUnreachable
from bot.slack.gateway import SlackGateway, slack_error
from bot.slack.mrkdwn import code

log = logging.getLogger(__name__)

TRIGGER_ERRORS = {"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"}  # views.open's refusals


def usage_reply(message: str, usage: str | None) -> str:
    """A one-line refusal (`message` is mrkdwn) with the right usage, its placeholders escaped."""
    return f":warning: {message}" + (f" Usage: {code(usage)}" if usage else "")


def reply_for(error: BaseException) -> str:
    """What a person is told about an error: the user's mistake plainly, ours without internals."""
    if isinstance(error, UserError):
        return usage_reply(str(error), error.usage if isinstance(error, UsageError) else None)
    if _too_late_for_a_form(error):
        return ":hourglass: Slack gave Tocsin too little time to open that form. Please try again."
    if isinstance(error, StillUnreachable):
        return (
            f":x: Tocsin could not reach {error.what} for a minute, so this was not "
            "done. Nothing was changed; please try again."
        )
    return ":x: Something went wrong on Tocsin's side; the details are in its log."


async def report_error(error: BaseException, body: dict[str, Any], slack: SlackGateway) -> None:
    """Log an error (ours) and tell the person who caused the request, privately."""
    if isinstance(error, StillUnreachable):  # expected in an outage: one line, no traceback
        log.warning("gave up a request: %s", error)
    elif _too_late_for_a_form(error):  # a trigger_id is good for 3 s and one form: expected under load
        log.warning("a form could not be opened: %s", slack_error(error))
    elif not isinstance(error, UserError):
        log.error("unhandled error in a listener", exc_info=error)
    user_id = _text(body.get("user_id")) or _text(_field(body.get("user"), "id"))
    if not user_id:
        return
    channel_id = _text(body.get("channel_id")) or _text(_field(body.get("channel"), "id"))
    target = ReplyTarget(user_id, channel_id, _text(body.get("response_url")))
    try:
        await slack.reply(target, reply_for(error))
    except SlackError as exc:
        log.warning("could not tell %s about an error: %s", user_id, exc)


def _too_late_for_a_form(error: BaseException) -> bool:
    return isinstance(error, SlackRefused) and error.error in TRIGGER_ERRORS


def _field(part: Any, key: str) -> Any:
    return part.get(key) if isinstance(part, dict) else None


def _text(value: Any) -> str | None:
    """A string field of a payload that may be malformed: the string, or None."""
    return value if isinstance(value, str) and value else None
