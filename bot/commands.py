"""The `/incident` slash command: parse, acknowledge, hand the use case to the background."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.command_parser import (
    HERE,
    AddFollowUp,
    AddNote,
    AssignRole,
    ChangeSeverity,
    ChangeStatus,
    Command,
    Declare,
    Help,
    ListFollowUps,
    ListOpen,
    NotYetAvailable,
    PageSomeone,
    PostmortemDone,
    PostUpdate,
    RegeneratePostmortem,
    Reopen,
    Resolve,
    ShowOnCall,
    ShowRunbooks,
    ShowStats,
    ShowTimeline,
    parse_command,
)
from bot.context import Deps
from bot.error_replies import reply_for
from bot.errors import NotFoundError, UserError
from bot.followups import NewFollowUp
from bot.ids import SLASH_COMMAND
from bot.incidents import NewIncident
from bot.permissions import Act, require
from bot.response import ResolutionDraft, UpdateDraft
from bot.services import match_service
from bot.slack_io import ReplyTarget


def _opens_a_modal(parsed: Command) -> bool:
    """Whether the subcommand opens a form: its trigger_id lives 3 s, so it skips the queue. A declare with
    a title (or an update or resolve with text) does not, and waits its turn like any other work."""
    match parsed:
        case Declare(title=None) | PostUpdate(text=None) | Resolve(summary=None):
            return True
    return False


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
        received = deps.incidents.clock()
        urgent = _opens_a_modal(parsed)
        deps.background.submit(body, lambda: run_command(parsed, command, deps, at=received), urgent=urgent)


async def run_command(parsed: Command, command: dict[str, Any], deps: Deps, *, at: datetime) -> None:
    """Carry out a parsed `/incident` command after its ack (`at`: when it was received)."""
    actor, team_id, channel_id = command["user_id"], command["team_id"], command["channel_id"]
    reply_to = ReplyTarget(actor, channel_id, command.get("response_url"))
    response = deps.response
    match parsed:
        case Declare(title=None, severity=severity):
            modal = blocks.declare_modal(deps.policy, origin_channel=channel_id, severity=severity)
            await deps.slack.open_view(command["trigger_id"], modal)
        case Declare(title=str(title), severity=severity):
            new = NewIncident(
                team_id=team_id,
                title=title,
                severity=severity or deps.policy.default_severity,
                declared_by=actor,
                declare_key=f"command:{command['trigger_id']}",
                service=match_service(title, deps.policy),
            )
            await deps.incidents.declare(new, reply_to=reply_to)
        case ListOpen():
            incidents, total = await deps.incidents.open_incidents(team_id, limit=blocks.LIST_SHOWN)
            now = deps.incidents.clock()
            await deps.slack.reply(reply_to, *blocks.open_incidents(incidents, now=now, total=total))
        case Help():
            await deps.slack.reply(reply_to, *blocks.help_message())
        case NotYetAvailable(subcommand=sub):
            await deps.slack.reply(reply_to, blocks.not_yet_available(sub.name))
        case ShowOnCall(service=service):
            await deps.slack.reply(reply_to, *blocks.oncall_lines(deps.pager.on_call_now(service)))
        case ShowStats(days=days, share=share):
            await deps.stats.show(team_id=team_id, days=days, share=share, reply_to=reply_to)
        case ListFollowUps(scope="mine" | "open" as scope):
            await deps.slack.reply(reply_to, *await deps.follow_ups.listing(team_id=team_id, scope=scope, actor=actor))
        case ListFollowUps(scope="incident", target=target):
            try:
                incident = await response.find(team_id=team_id, target=target, channel_id=channel_id)
            except NotFoundError:
                if target != HERE:
                    raise
                incident = None  # typed outside an incident channel: every open follow-up
            scope = "incident" if incident else "open"
            listing = await deps.follow_ups.listing(team_id=team_id, scope=scope, actor=actor, incident=incident)
            await deps.slack.reply(reply_to, *listing)
        case _:
            incident = await response.find(team_id=team_id, target=parsed.target, channel_id=channel_id)
            match parsed:
                case AssignRole(role=role, user_id=user_id):
                    await response.assign_role(incident, role=role, user_id=user_id, actor=actor, at=at)
                case ChangeSeverity(severity=severity, reason=reason):
                    await response.change_severity(
                        incident, severity=severity, reason=reason, actor=actor, reply_to=reply_to, at=at
                    )
                case ChangeStatus(status=status):
                    await response.change_status(incident, status=status, actor=actor, at=at)
                case PostUpdate(text=None):
                    modal = blocks.update_modal(incident, next_at=response.draft_next_update(incident))
                    await deps.slack.open_view(command["trigger_id"], modal)
                case PostUpdate(text=str(text)):
                    draft = UpdateDraft(known=text)
                    await response.post_update(incident, draft=draft, actor=actor, reply_to=reply_to, at=at)
                case AddNote(text=text):
                    await response.add_note(incident, text=text, actor=actor, reply_to=reply_to, at=at)
                case Resolve(summary=None):
                    require(Act.RESOLVE, actor=actor, incident=incident, policy=deps.policy)
                    await deps.slack.open_view(command["trigger_id"], blocks.resolve_modal(incident))
                case Resolve(summary=str(summary)):
                    resolution = ResolutionDraft(summary=summary)
                    await response.resolve(incident, draft=resolution, actor=actor, reply_to=reply_to, at=at)
                case Reopen(reason=reason):
                    await response.reopen(incident, reason=reason, actor=actor, at=at)
                case ShowTimeline(page=page):
                    await deps.slack.reply(reply_to, *await response.timeline(incident, page=page))
                case ShowRunbooks(name=None):
                    await deps.slack.reply(reply_to, *await deps.runbooks.listing(incident))
                case ShowRunbooks(name=str(name)):
                    await deps.runbooks.post_named(incident, name, actor=actor, reply_to=reply_to)
                case AddFollowUp(text=text, owner=owner, due_on=due_on):
                    item = NewFollowUp(text=text, owner=owner, due_on=due_on)
                    await deps.follow_ups.add(incident, item, actor=actor, reply_to=reply_to)
                case PostmortemDone():
                    await response.postmortem_done(incident, actor=actor, at=at)
                case RegeneratePostmortem():
                    publication = await deps.postmortems.publish(incident, actor=actor)
                    where = "the channel canvas" if publication.kind == "canvas" else "a new file"
                    await deps.slack.reply(
                        reply_to, f":memo: Postmortem draft version {publication.version} is in {where}."
                    )
                case PageSomeone(user_id=str(user_id)):
                    await deps.pager.page_user(incident, user_id=user_id, actor=actor, team_id=team_id)
                    await deps.slack.reply(reply_to, f":pager: Paging <@{user_id}> for {incident.reference}.")
                case PageSomeone(service=str(service)):
                    await deps.pager.page_service(incident, service=service, actor=actor, team_id=team_id)
                    await deps.slack.reply(reply_to, f":pager: Paging the {service} on-call for {incident.reference}.")
