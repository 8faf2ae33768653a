"""The header message's buttons and selects."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import Deps
from bot.ids import Action
from bot.slack_io import ReplyTarget

_LABELS = {
    Action.ACKNOWLEDGE: "Acknowledge",
    Action.SET_SEVERITY: "Severity",
    Action.ASSIGN_IC: "Assign IC",
    Action.ASSIGN_COMMS: "Assign comms lead",
    Action.POST_UPDATE: "Post update",
    Action.RESOLVE: "Resolve",
}


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for the header's controls."""
    for action in Action:

        @app.action(action.value)
        async def control_not_yet_available(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            label = _LABELS.get(Action(action["action_id"]), action["action_id"])
            text = f":construction: *{label}* isn't available in this version yet; nothing was changed."
            target = ReplyTarget(body["user"]["id"], body["channel"]["id"], body.get("response_url"))
            deps.background.submit(body, lambda: deps.slack.reply(target, text))
