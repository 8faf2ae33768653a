"""What Slack delivers is checked before any listener reads it: the fields listeners rely on have the
types Slack documents, and no text carries a NUL or an unpaired surrogate (PostgreSQL and UTF-8 refuse
both). A payload that fails is answered 400 with the reason, and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.domain.clean_input import clean_strings

log = logging.getLogger(__name__)

_SLASH_FIELDS = ("user_id", "channel_id", "team_id", "trigger_id")
# Parts Bolt and the listeners read as objects wherever they appear.
_OBJECTS = ("team", "user", "channel", "container", "view", "message", "event", "state")


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _user_id(body: dict[str, Any]) -> bool:
    user = body.get("user")
    return isinstance(user, dict) and _is_str(user.get("id"))


def malformed(body: Any) -> str | None:
    """Why a Slack payload cannot be used (None when it can)."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return f"{key} is not an object"
    if body.get("enterprise") is not None and not isinstance(body["enterprise"], dict | str):
        return "enterprise is neither an object nor an ID"
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return "authorizations is not a list of objects"
    kind = body.get("type")
    if "command" in body:
        missing = [f for f in _SLASH_FIELDS if not _is_str(body.get(f))]
        if missing or not isinstance(body.get("text", ""), str):
            return f"slash command without {', '.join(missing) or 'text'}"
        return None
    if kind == "block_actions":
        actions = body.get("actions")
        if not _user_id(body) or not _is_str(body.get("trigger_id")):
            return "block_actions without user.id or trigger_id"
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        for action in actions:
            if not isinstance(action, dict) or not _is_str(action.get("action_id")):
                return "an action without action_id"
            if not isinstance(action.get("block_id", ""), str):
                return "an action whose block_id is not text"
        channel = body.get("channel")
        if channel is not None and not (isinstance(channel, dict) and _is_str(channel.get("id"))):
            return "block_actions with a channel but no channel.id"
        return None
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not _user_id(body) or not isinstance(view, dict) or not _is_str(view.get("id")):
            return f"{kind} without user.id or view.id"
        if not _is_str(view.get("type")) or not _is_str(view.get("callback_id")):
            return f"{kind} without view.type or view.callback_id"
        state = view.get("state", {"values": {}})
        if not isinstance(state, dict) or not isinstance(state.get("values"), dict):
            return f"{kind} without view.state.values"
        if not all(isinstance(block, dict) for block in state["values"].values()):
            return f"{kind} whose view.state.values are not objects"
        if not isinstance(view.get("private_metadata", ""), str):
            return f"{kind} whose private_metadata is not text"
        return None
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _is_str(event.get("type")) or not _is_str(body.get("event_id")):
            return "event_callback without event.type or event_id"
        return None
    return None


def well_formed_payloads() -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: refuse malformed payloads (400), clean the text of the rest, then go on."""

    async def middleware(req: AsyncBoltRequest, next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        reason = malformed(req.body)
        if reason is None:
            clean_strings(req.body)
            await next()
            return None
        log.warning("refused a malformed Slack payload: %s", reason)
        # Over Socket Mode the envelope is still acknowledged (empty), or Slack would deliver it again.
        if req.mode == "socket_mode":
            return BoltResponse(status=200, body="")
        return BoltResponse(status=400, body=reason)

    return middleware
