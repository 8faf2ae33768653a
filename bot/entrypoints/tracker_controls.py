"""The **Create issue** button on a follow-up (lists, App Home, the postmortem message): acknowledged at
once, the issue made in the background, the outcome told to whoever pressed it."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import UserError
from bot.domain.numbers import parse_id
from bot.entrypoints.deps import Needs
from bot.entrypoints.listening import Request, accepted
from bot.runtime.background import Background
from bot.slack.blocks.follow_ups import CREATE_ISSUE
from bot.slack.gateway import SlackGateway
from bot.slack.mrkdwn import escape
from bot.usecases.ports import Clock
from bot.usecases.tracker_sync import TrackerSync


@dataclass(frozen=True)
class TrackerControlDeps(Needs):
    """What this listener uses."""

    tracker_sync: TrackerSync
    slack: SlackGateway
    background: Background
    clock: Clock


def register(app: AsyncApp, deps: TrackerControlDeps) -> None:
    """Listen for the Create issue button."""

    work = accepted(deps.background, deps.clock)

    @app.action(CREATE_ISSUE)
    @work
    async def create_issue(request: Request) -> None:
        follow_up_id = parse_id(request.action.get("value"))
        if follow_up_id is None:
            raise UserError("That button isn't attached to a follow-up any more.")
        made = await deps.tracker_sync.create_issue(follow_up_id, actor=request.actor)
        link = f"<{escape(made.url)}|{escape(made.key)}>"
        await deps.slack.reply(request.reply_to, f":link: Issue {link} in {escape(made.tracker)} tracks it.")
