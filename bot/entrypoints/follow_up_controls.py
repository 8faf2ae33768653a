"""Follow-up controls: the Add follow-up button (postmortem message) and its form, and Done buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import UserError
from bot.domain.follow_ups import NewFollowUp
from bot.domain.numbers import parse_id
from bot.entrypoints.deps import Needs
from bot.entrypoints.listening import Request, accepted
from bot.runtime.background import PEOPLE, Background
from bot.slack.blocks.follow_ups import follow_up_modal
from bot.slack.blocks.forms import form_incident_id
from bot.slack.gateway import SlackGateway
from bot.slack.ids import Action, Block, View
from bot.slack.mrkdwn import is_user_id
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.ports import Clock
from bot.usecases.respond import ResponseService


@dataclass(frozen=True)
class FollowUpDeps(Needs):
    """What these listeners use."""

    response: ResponseService
    lifecycle: Lifecycle
    follow_ups: FollowUpService
    slack: SlackGateway
    background: Background
    clock: Clock


def register(app: AsyncApp, deps: FollowUpDeps) -> None:
    """Listen for follow-up buttons and the follow-up form."""

    work = accepted(deps.background, deps.clock)
    form = accepted(deps.background, deps.clock, urgent=True)

    @app.action(Action.FOLLOW_UP_ADD)
    @form
    async def add_follow_up(request: Request) -> None:
        incident_id = _number(request.action.get("value"), "That button isn't attached to an incident any more.")
        incident = await deps.response.get(incident_id)
        await deps.slack.open_view(request.body["trigger_id"], follow_up_modal(incident))

    @app.action(Action.POSTMORTEM_DONE)
    @work
    async def postmortem_done(request: Request) -> None:
        incident_id = _number(request.action.get("value"), "That button isn't attached to an incident any more.")
        await deps.lifecycle.postmortem_done(incident_id, actor=request.actor, at=request.received)

    @app.action(Action.FOLLOW_UP_DONE)
    @work
    async def follow_up_done(request: Request) -> None:
        follow_up_id = _number(request.action.get("value"), "That button isn't attached to a follow-up any more.")
        await deps.follow_ups.mark_done(follow_up_id, actor=request.actor, reply_to=request.reply_to)

    @app.view(View.FOLLOW_UP)
    async def follow_up_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        text = ((values.get(Block.FOLLOW_UP_TEXT, {}).get("value") or {}).get("value") or "").strip()
        owner = (values.get(Block.FOLLOW_UP_OWNER, {}).get("value") or {}).get("selected_user")
        due = (values.get(Block.FOLLOW_UP_DUE, {}).get("value") or {}).get("selected_date")
        try:
            due_on = date.fromisoformat(due) if due else None
        except (TypeError, ValueError):
            errors = {str(Block.FOLLOW_UP_DUE): "Pick a date from the calendar."}
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

        deps.background.submit(body, job, lane=PEOPLE)


def _number(value: Any, problem: str) -> int:
    number = parse_id(value)
    if number is None:
        raise UserError(problem)
    return number
