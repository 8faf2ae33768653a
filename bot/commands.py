"""The `/incident` slash command: acknowledge, parse, run one use case, reply."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.command_parser import Declare, Help, ListOpen, NotYetAvailable, parse_command
from bot.context import Deps
from bot.ids import SLASH_COMMAND
from bot.incidents import NewIncident, clean_title
from bot.slack_io import ReplyTarget


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for `/incident`."""

    @app.command(SLASH_COMMAND)
    async def incident_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        # Tracked before the ack, so a shutdown never misses work Slack was told we accepted.
        async with deps.inflight.track():
            await ack()
            match parse_command(command.get("text", ""), deps.policy):
                case Declare(title=None, severity=severity):
                    modal = blocks.declare_modal(deps.policy, origin_channel=command["channel_id"], severity=severity)
                    await deps.slack.open_view(command["trigger_id"], modal)
                case Declare(title=str(title), severity=severity):
                    new = NewIncident(
                        team_id=command["team_id"],
                        title=clean_title(blocks.plain_from_slack(title)),
                        severity=severity or deps.policy.default_severity,
                        declared_by=command["user_id"],
                        declare_key=f"command:{command['trigger_id']}",
                    )
                    reply_to = ReplyTarget(command["user_id"], command["channel_id"], command.get("response_url"))
                    await deps.incidents.declare(new, reply_to=reply_to)
                case ListOpen():
                    incidents = await deps.incidents.open_incidents(command["team_id"])
                    text, body = blocks.open_incidents(incidents, now=deps.incidents.clock())
                    await respond(text=text, blocks=body, response_type="ephemeral")
                case Help():
                    text, body = blocks.help_message()
                    await respond(text=text, blocks=body, response_type="ephemeral")
                case NotYetAvailable(subcommand=sub):
                    await respond(
                        text=f":construction: `{SLASH_COMMAND} {sub.name}` isn't available in this version yet. "
                        f"Try `{SLASH_COMMAND} help`.",
                        response_type="ephemeral",
                    )
