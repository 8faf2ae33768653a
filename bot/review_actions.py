"""Follow-up controls: the Add follow-up button (postmortem message) and its form, and Done buttons."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import review_blocks
from bot.blocks import form_incident_id
from bot.context import Deps
from bot.errors import UserError
from bot.followups import NewFollowUp
from bot.ids import Action, Block, View
from bot.mrkdwn import is_user_id
from bot.numbers import parse_id
from bot.slack_io import ReplyTarget


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for follow-up buttons and the follow-up form."""

    @app.action(Action.FOLLOW_UP_ADD)
    async def add_follow_up(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incident_id = _number(action.get("value"), "That button isn't attached to an incident any more.")

        async def job() -> None:
            incident = await deps.response.get(incident_id)
            await deps.slack.open_view(body["trigger_id"], review_blocks.follow_up_modal(incident))

        deps.background.submit(body, job, urgent=True)  # trigger_id lives 3 s

    @app.action(Action.POSTMORTEM_DONE)
    async def postmortem_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        received = deps.incidents.clock()
        incident_id = _number(action.get("value"), "That button isn't attached to an incident any more.")
        actor = str(body["user"]["id"])

        async def job() -> None:
            incident = await deps.response.get(incident_id)
            await deps.response.postmortem_done(incident, actor=actor, at=received)

        deps.background.submit(body, job)

    @app.action(Action.FOLLOW_UP_DONE)
    async def follow_up_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        follow_up_id = _number(action.get("value"), "That button isn't attached to a follow-up any more.")
        actor = str(body["user"]["id"])
        reply_to = ReplyTarget(actor, (body.get("channel") or {}).get("id"), body.get("response_url"))
        deps.background.submit(body, lambda: deps.follow_ups.mark_done(follow_up_id, actor=actor, reply_to=reply_to))

    @app.view(View.FOLLOW_UP)
    async def follow_up_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        text = ((values.get(Block.FOLLOW_UP_TEXT, {}).get("value") or {}).get("value") or "").strip()
        owner = (values.get(Block.FOLLOW_UP_OWNER, {}).get("value") or {}).get("selected_user")
        due = (values.get(Block.FOLLOW_UP_DUE, {}).get("value") or {}).get("selected_date")
        try:
            due_on = date.fromisoformat(due) if due else None
        except (TypeError, ValueError):
            errors = {Block.FOLLOW_UP_DUE: "Pick a date from the calendar."}
            await ack(response_action="errors", errors=errors)
            return
        if not text:
            await ack(response_action="errors", errors={Block.FOLLOW_UP_TEXT: "Describe the action item."})
            return
        if owner is not None and not is_user_id(owner):
            await ack(response_action="errors", errors={Block.FOLLOW_UP_OWNER: "Pick a person from the list."})
            return
        if due_on is not None and due_on < deps.follow_ups.today():
            await ack(response_action="errors", errors={Block.FOLLOW_UP_DUE: "Pick today or a later day."})
            return
        await ack()
        actor = str(body["user"]["id"])
        incident_id = form_incident_id(view)

        async def job() -> None:
            incident = await deps.response.get(incident_id)
            await deps.follow_ups.add(incident, NewFollowUp(text, owner, due_on), actor=actor, reply_to=None)

        deps.background.submit(body, job)


def _number(value: Any, problem: str) -> int:
    number = parse_id(value)
    if number is None:
        raise UserError(problem)
    return number
