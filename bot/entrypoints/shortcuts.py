"""Message shortcuts: **Declare an incident** from a message, and **Add to incident timeline** (a reply
in a thread as much as a message in the channel).

Both acknowledge at once and open their form first (the trigger_id lives 3 s and works once); the
message they act on is carried in the form's private_metadata, so its submission needs no history read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import NotFoundError, UserError
from bot.domain.incidents import HERE
from bot.domain.numbers import parse_id
from bot.domain.policy import Policy
from bot.domain.source_message import SourceMessage, is_slack_ts, reply_thread
from bot.entrypoints.deps import Needs
from bot.entrypoints.listening import Request, accepted
from bot.runtime.background import PEOPLE, Background
from bot.slack import blocks
from bot.slack.gateway import ReplyTarget, SlackGateway
from bot.slack.ids import Block, Shortcut, View
from bot.slack.mrkdwn import plain_from_slack
from bot.usecases.capture import MessageCapture
from bot.usecases.declare import IncidentService
from bot.usecases.ports import Clock
from bot.usecases.respond import ResponseService
from bot.usecases.visibility import Visibility


@dataclass(frozen=True)
class ShortcutDeps(Needs):
    """What these listeners use."""

    incidents: IncidentService
    response: ResponseService
    capture: MessageCapture
    visibility: Visibility
    slack: SlackGateway
    policy: Policy
    background: Background
    clock: Clock


def register(app: AsyncApp, deps: ShortcutDeps) -> None:
    """Listen for the message shortcuts in manifest.yml and the form one of them opens."""
    form = accepted(deps.background, deps.clock, urgent=True)

    @app.shortcut(Shortcut.DECLARE_FROM_MESSAGE)
    @form
    async def declare_from_message(request: Request) -> None:
        message = source_message(request.body)
        modal = blocks.declare_modal(deps.policy, origin_channel=message.channel_id, message=message)
        await deps.slack.open_view(request.body["trigger_id"], modal)

    @app.shortcut(Shortcut.ADD_TO_TIMELINE)
    @form
    async def add_to_timeline(request: Request) -> None:
        message = source_message(request.body)
        team_id, actor = str(request.body["team"]["id"]), request.actor
        try:  # in an incident channel: that incident
            incident = await deps.response.find(
                team_id=team_id, target=HERE, channel_id=message.channel_id, viewer=actor
            )
        except NotFoundError:  # elsewhere: which open incident (of those this person may see)?
            incidents, _ = await deps.incidents.open_incidents(team_id, viewer=actor, limit=blocks.MAX_SELECT_OPTIONS)
            if not incidents:
                raise UserError("There are no open incidents to add this message to.") from None
            await deps.slack.open_view(request.body["trigger_id"], blocks.add_to_timeline_modal(incidents, message))
            return
        await _add(deps, incident.id, message, actor=actor, reply_to=request.reply_to)

    @app.view(View.ADD_TO_TIMELINE)
    async def incident_chosen(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        chosen = (view["state"]["values"].get(Block.INCIDENT, {}).get("value") or {}).get("selected_option") or {}
        incident_id = parse_id(str(chosen.get("value", "")))
        message = SourceMessage.from_metadata(blocks.form_metadata(view, "message"))
        actor = str(body["user"]["id"])
        if incident_id is None or message is None:
            await ack(response_action="errors", errors={Block.INCIDENT: "Pick an incident from the list."})
            return
        await ack()
        reply_to = ReplyTarget(actor, message.channel_id)
        deps.background.submit(
            body, lambda: _add(deps, incident_id, message, actor=actor, reply_to=reply_to), lane=PEOPLE
        )


async def _add(
    deps: ShortcutDeps, incident_id: int, message: SourceMessage, *, actor: str, reply_to: ReplyTarget
) -> None:
    """Put the message on the incident's timeline (never one the person may not see: the form's choice
    is checked again, as any request could name any id) and tell them how it went."""
    incident = await deps.response.get(incident_id)
    if not await deps.visibility.may_see(incident, actor):
        raise NotFoundError("That incident no longer exists.")
    added = await deps.capture.add_message(incident, message, actor=actor)
    where = (
        f"the {incident.reference} timeline"
        if incident.private
        else f"the timeline of {blocks.incident_title_line(incident)}"
    )
    said = f":pushpin: Added to {where}." if added else f"That message is already on {where}."
    await deps.slack.reply(reply_to, said)


def source_message(body: dict[str, Any]) -> SourceMessage:
    """The message a shortcut was used on, as plain text (Slack's payload, checked); a reply's payload
    carries its thread_ts."""
    message, channel = body.get("message") or {}, body.get("channel") or {}
    ts, channel_id = message.get("ts"), channel.get("id")
    if not is_slack_ts(ts) or not isinstance(channel_id, str):
        raise UserError("Slack did not say which message that was; try again.")
    author = message.get("user") if isinstance(message.get("user"), str) else None
    text = plain_from_slack(message["text"]) if isinstance(message.get("text"), str) else ""
    return SourceMessage(channel_id, ts, author, text, thread_ts=reply_thread(ts, message.get("thread_ts")))
