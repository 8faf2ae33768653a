"""The `/incident` slash command: parse, acknowledge, hand the use case to the background."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.drafts import ResolutionDraft, UpdateDraft
from bot.domain.errors import NotFoundError, UserError
from bot.domain.follow_ups import NewFollowUp
from bot.domain.incidents import HERE, Incident, NewIncident
from bot.domain.service_match import match_service
from bot.domain.status_page import PublicWording
from bot.domain.typed_declare import declared_severity, typed_values
from bot.entrypoints.command_families import declare_vetter
from bot.entrypoints.command_parser import parse_command
from bot.entrypoints.command_types import (
    SUBCOMMANDS,
    AddFollowUp,
    AddNote,
    AssignRole,
    ChangeSeverity,
    ChangeStatus,
    ChangeVisibility,
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
    ShowSummary,
    ShowTimeline,
)
from bot.entrypoints.deps import Deps
from bot.entrypoints.error_replies import reply_for
from bot.runtime.background import PEOPLE
from bot.slack import blocks
from bot.slack.blocks.incident_types import with_type_blocks
from bot.slack.gateway import ReplyTarget
from bot.slack.ids import SLASH_COMMAND
from bot.usecases.going_public import refuse_making_private


def _opens_a_modal(parsed: Command | object) -> bool:
    """Whether the subcommand opens a form: its trigger_id lives 3 s, so it skips the queue. A declare with
    a title (or an update or resolve with text) does not, and waits its turn like any other work."""
    match parsed:
        case Declare(title=None) | PostUpdate(text=None, public=None) | Resolve(summary=None):
            return True
    return False


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for `/incident`."""

    @app.command(SLASH_COMMAND)
    async def incident_command(ack: AsyncAck, body: dict[str, Any], command: dict[str, Any]) -> None:
        try:
            # pure: no I/O before the ack
            parsed = parse_command(command.get("text", ""), deps.policy, deps.command_families)
        except UserError as exc:
            await ack(text=reply_for(exc), response_type="ephemeral")
            return
        await ack()
        received = deps.clock()
        deps.background.submit(
            body,
            lambda: run_command(parsed, command, deps, at=received),
            lane=PEOPLE,
            long=isinstance(parsed, Declare),  # it makes a channel: quick replies go first
            urgent=_opens_a_modal(parsed) or any(f.opens_form(parsed) for f in deps.command_families),
        )


@dataclass(frozen=True)
class Invocation:
    """A parsed `/incident` as typed: by whom, where, when, and what to reply through."""

    command: dict[str, Any]
    deps: Deps
    at: datetime  # when it was received

    @property
    def actor(self) -> str:
        return str(self.command["user_id"])

    @property
    def team_id(self) -> str:
        return str(self.command["team_id"])

    @property
    def channel_id(self) -> str:
        return str(self.command["channel_id"])

    @property
    def reply_to(self) -> ReplyTarget:
        return ReplyTarget(self.actor, self.channel_id, self.command.get("response_url"))

    async def reply(self, text: str, body: list[dict[str, Any]] | None = None) -> None:
        await self.deps.slack.reply(self.reply_to, text, body)

    async def open_form(self, view: dict[str, Any]) -> None:
        await self.deps.slack.open_view(self.command["trigger_id"], view)


async def run_command(parsed: Command | object, command: dict[str, Any], deps: Deps, *, at: datetime) -> None:
    """Carry out a parsed `/incident` command after its ack (`at`: when it was received): workspace
    commands by their handler, the others on the incident they name (or the channel's). A capability's
    handler (its command family's) goes first."""
    typed = Invocation(command, deps, at)
    kind = type(parsed)
    workspace = next((f.handlers[kind] for f in deps.command_families if kind in f.handlers), _WORKSPACE.get(kind))
    if workspace is not None:
        await workspace(typed, parsed)
        return
    target = parsed.target  # type: ignore[union-attr]  # every other command names an incident
    incident = await deps.response.find(
        team_id=typed.team_id, target=target, channel_id=typed.channel_id, viewer=typed.actor
    )
    in_incident = next((f.in_incident[kind] for f in deps.command_families if kind in f.in_incident), None)
    await (in_incident or _IN_AN_INCIDENT[kind])(typed, parsed, incident)


# ----- workspace commands ------------------------------------------------------------------------
async def _declare(typed: Invocation, parsed: Any) -> None:
    deps = typed.deps
    if parsed.title is None:
        modal = blocks.declare_modal(
            deps.policy, origin_channel=typed.channel_id, severity=parsed.severity, private=parsed.private
        )
        modal["blocks"] = with_type_blocks(modal["blocks"], deps.policy, parsed.incident_type)
        await typed.open_form(modal)
        return
    new = NewIncident(
        team_id=typed.team_id,
        title=parsed.title,
        severity=declared_severity(deps.policy, parsed.incident_type, parsed.severity),
        declared_by=typed.actor,
        declare_key=f"command:{typed.command['trigger_id']}",
        service=match_service(parsed.title, deps.policy),
        private=parsed.private,
        incident_type=parsed.incident_type,
        custom_fields=typed_values(deps.policy, parsed.incident_type, parsed.fields),
    )
    # A capability vetting declares declares it itself (related: after offering to join a lookalike).
    vetted = declare_vetter(deps.command_families)
    if vetted is not None:
        await vetted(new, typed.reply_to)
        return
    await deps.incidents.declare(new, reply_to=typed.reply_to)


async def _list_open(typed: Invocation, _parsed: Any) -> None:
    incidents, total = await typed.deps.incidents.open_incidents(
        typed.team_id, viewer=typed.actor, limit=blocks.LIST_SHOWN
    )
    await typed.reply(*blocks.open_incidents(incidents, now=typed.deps.clock(), total=total))


async def _help(typed: Invocation, _parsed: Any) -> None:
    added = tuple(s for f in typed.deps.command_families for s in f.subcommands)
    await typed.reply(*blocks.help_message((*SUBCOMMANDS, *added)))


async def _not_yet_available(typed: Invocation, parsed: Any) -> None:
    await typed.reply(blocks.not_yet_available(parsed.subcommand.name))


async def _on_call(typed: Invocation, parsed: Any) -> None:
    await typed.reply(*blocks.oncall_lines(typed.deps.pager.on_call_now(parsed.service)))


async def _stats(typed: Invocation, parsed: Any) -> None:
    await typed.deps.stats.show(
        team_id=typed.team_id,
        days=parsed.days,
        share=parsed.share,
        reply_to=typed.reply_to,
        incident_type=parsed.incident_type,
    )


async def _follow_ups(typed: Invocation, parsed: Any) -> None:
    deps, incident = typed.deps, None
    if parsed.scope == "incident":
        try:
            incident = await deps.response.find(
                team_id=typed.team_id, target=parsed.target, channel_id=typed.channel_id, viewer=typed.actor
            )
        except NotFoundError:
            if parsed.target != HERE:
                raise
            # typed outside an incident channel: every open follow-up
    scope = parsed.scope if parsed.scope != "incident" else ("incident" if incident else "open")
    await typed.reply(
        *await deps.follow_ups.listing(team_id=typed.team_id, scope=scope, actor=typed.actor, incident=incident)
    )


_WORKSPACE: dict[type, Callable[[Invocation, Any], Awaitable[None]]] = {
    Declare: _declare,
    ListOpen: _list_open,
    Help: _help,
    NotYetAvailable: _not_yet_available,
    ShowOnCall: _on_call,
    ShowStats: _stats,
    ListFollowUps: _follow_ups,
}


# ----- commands about one incident --------------------------------------------------------------
async def _assign_role(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.deps.response.assign_role(
        incident.id, role=parsed.role, user_id=parsed.user_id, actor=typed.actor, at=typed.at
    )


async def _change_severity(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.deps.response.change_severity(
        incident.id,
        severity=parsed.severity,
        reason=parsed.reason,
        actor=typed.actor,
        reply_to=typed.reply_to,
        at=typed.at,
    )


async def _change_status(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.deps.lifecycle.change_status(incident.id, status=parsed.status, actor=typed.actor, at=typed.at)


async def _post_update(typed: Invocation, parsed: Any, incident: Incident) -> None:
    response = typed.deps.response
    if parsed.text is None and parsed.public is None:
        await typed.open_form(blocks.update_modal(incident, next_at=response.draft_next_update(incident)))
        return
    draft = UpdateDraft(known=parsed.text or "")
    public = PublicWording(parsed.public, parsed.public_title) if parsed.public is not None else None
    await response.post_update(
        incident.id, draft=draft, actor=typed.actor, reply_to=typed.reply_to, at=typed.at, public=public
    )


async def _add_note(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.deps.response.add_note(
        incident.id, text=parsed.text, actor=typed.actor, reply_to=typed.reply_to, at=typed.at
    )


async def _resolve(typed: Invocation, parsed: Any, incident: Incident) -> None:
    if parsed.summary is None:
        await typed.deps.lifecycle.check_may_resolve(incident, actor=typed.actor)
        await typed.open_form(blocks.resolve_modal(incident, typed.deps.policy))
        return
    draft = ResolutionDraft(summary=parsed.summary)
    await typed.deps.lifecycle.resolve(
        incident.id, draft=draft, actor=typed.actor, reply_to=typed.reply_to, at=typed.at
    )


async def _reopen(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.deps.lifecycle.reopen(incident.id, reason=parsed.reason, actor=typed.actor, at=typed.at)


async def _timeline(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.reply(*await typed.deps.response.timeline(incident, page=parsed.page))


async def _runbooks(typed: Invocation, parsed: Any, incident: Incident) -> None:
    runbooks = typed.deps.runbooks
    if parsed.name is None:
        await typed.reply(*await runbooks.listing(incident))
        return
    await runbooks.post_named(incident, parsed.name, actor=typed.actor, reply_to=typed.reply_to)


async def _add_follow_up(typed: Invocation, parsed: Any, incident: Incident) -> None:
    item = NewFollowUp(text=parsed.text, owner=parsed.owner, due_on=parsed.due_on)
    await typed.deps.follow_ups.add(incident, item, actor=typed.actor, reply_to=typed.reply_to)


async def _postmortem_done(typed: Invocation, _parsed: Any, incident: Incident) -> None:
    await typed.deps.lifecycle.postmortem_done(incident.id, actor=typed.actor, at=typed.at)


async def _regenerate_postmortem(typed: Invocation, _parsed: Any, incident: Incident) -> None:
    publication = await typed.deps.postmortems.publish(incident, actor=typed.actor)
    where = "the channel canvas" if publication.kind == "canvas" else "a new file"
    await typed.reply(f":memo: Postmortem draft version {publication.version} is in {where}.")


async def _summary(typed: Invocation, parsed: Any, incident: Incident) -> None:
    await typed.deps.catch_up.show(incident, share=parsed.share, reply_to=typed.reply_to)


async def _change_visibility(typed: Invocation, parsed: Any, incident: Incident) -> None:
    if parsed.private:
        refuse_making_private(incident)
    await typed.deps.going_public.make_public(incident.id, actor=typed.actor, reply_to=typed.reply_to)


async def _page(typed: Invocation, parsed: Any, incident: Incident) -> None:
    pager = typed.deps.pager
    if parsed.user_id is not None:
        await pager.page_user(incident, user_id=parsed.user_id, actor=typed.actor, team_id=typed.team_id)
        await typed.reply(f":pager: Paging <@{parsed.user_id}> for {incident.reference}.")
    elif parsed.service is not None:
        await pager.page_service(incident, service=parsed.service, actor=typed.actor, team_id=typed.team_id)
        await typed.reply(f":pager: Paging the {parsed.service} on-call for {incident.reference}.")


_IN_AN_INCIDENT: dict[type, Callable[[Invocation, Any, Incident], Awaitable[None]]] = {
    AssignRole: _assign_role,
    ChangeSeverity: _change_severity,
    ChangeStatus: _change_status,
    PostUpdate: _post_update,
    AddNote: _add_note,
    Resolve: _resolve,
    Reopen: _reopen,
    ShowTimeline: _timeline,
    ShowRunbooks: _runbooks,
    AddFollowUp: _add_follow_up,
    PostmortemDone: _postmortem_done,
    RegeneratePostmortem: _regenerate_postmortem,
    PageSomeone: _page,
    ShowSummary: _summary,
    ChangeVisibility: _change_visibility,
}
