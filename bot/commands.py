"""The `/incident` slash command: parse, acknowledge, hand the use case to the background."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.command_parser import Command, Declare, Help, ListOpen, NotYetAvailable, parse_command
from bot.context import Deps
from bot.error_replies import reply_for
from bot.errors import UserError
from bot.ids import SLASH_COMMAND
from bot.incidents import NewIncident
from bot.slack_io import ReplyTarget


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for `/incident`."""

    @app.command(SLASH_COMMAND)
    async def incident_command(ack: AsyncAck, body: dict[str, Any], command: dict[str, Any]) -> None:
        try:
            parsed = parse_command(command.get("text", ""), deps.policy)  # pure: no I/O before the ack
        except UserError as exc:
            await ack(text=reply_for(exc), response_type="ephemeral")
            return
        await ack()
        deps.background.submit(body, lambda: run_command(parsed, command, deps))


async def run_command(parsed: Command, command: dict[str, Any], deps: Deps) -> None:
    """Carry out a parsed `/incident` command after its ack."""
    reply_to = ReplyTarget(command["user_id"], command["channel_id"], command.get("response_url"))
    match parsed:
        case Declare(title=None, severity=severity):
            modal = blocks.declare_modal(deps.policy, origin_channel=command["channel_id"], severity=severity)
            await deps.slack.open_view(command["trigger_id"], modal)
        case Declare(title=str(title), severity=severity):
            new = NewIncident(
                team_id=command["team_id"],
                title=title,
                severity=severity or deps.policy.default_severity,
                declared_by=command["user_id"],
                declare_key=f"command:{command['trigger_id']}",
            )
            await deps.incidents.declare(new, reply_to=reply_to)
        case ListOpen():
            incidents = await deps.incidents.open_incidents(command["team_id"])
            await deps.slack.reply(reply_to, *blocks.open_incidents(incidents, now=deps.incidents.clock()))
        case Help():
            await deps.slack.reply(reply_to, *blocks.help_message())
        case NotYetAvailable(subcommand=sub):
            await deps.slack.reply(reply_to, blocks.not_yet_available(sub.name))
