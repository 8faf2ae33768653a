"""Modal submissions: the declare form, the status update form and the resolve form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.drafts import ResolutionDraft, UpdateDraft
from bot.domain.incidents import NewIncident
from bot.domain.numbers import epoch_time
from bot.domain.policy import Policy
from bot.domain.source_message import SourceMessage
from bot.domain.status_page import PublicWording
from bot.entrypoints.command_families import CommandFamily, declare_vetter
from bot.entrypoints.declare_form import DeclareForm, read_declare_form
from bot.entrypoints.deps import Needs
from bot.entrypoints.type_form import TypedForm, block_ids, merged_errors, read_type_fields
from bot.runtime.background import PEOPLE, Background
from bot.slack.blocks.forms import (
    PUBLIC_TEXT_BLOCK,
    PUBLIC_TITLE_BLOCK,
    PUBLISH_BLOCK,
    PUBLISH_OPTION,
    form_incident_id,
    form_metadata,
)
from bot.slack.gateway import ReplyTarget
from bot.slack.ids import Block, View
from bot.usecases.declare import IncidentService
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.ports import Clock
from bot.usecases.respond import ResponseService


@dataclass(frozen=True)
class FormDeps(Needs):
    """What these listeners use."""

    incidents: IncidentService
    response: ResponseService
    lifecycle: Lifecycle
    policy: Policy
    background: Background
    clock: Clock
    command_families: tuple[CommandFamily, ...]


def register(app: AsyncApp, deps: FormDeps) -> None:
    """Listen for modal submissions."""

    @app.view(View.DECLARE)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = read_declare_form(view["state"]["values"], deps.policy, now=deps.clock())
        typed = read_type_fields(view["state"]["values"], deps.policy, shown=block_ids(view))  # type, fields
        if not isinstance(form, DeclareForm) or not isinstance(typed, TypedForm):
            await ack(response_action="errors", errors=merged_errors(form, typed))
            return
        await ack()
        user_id = body["user"]["id"]
        new = NewIncident(
            team_id=body["team"]["id"] if body.get("team") else view["team_id"],
            title=form.title,
            severity=form.severity,
            declared_by=user_id,
            # Slack keeps the view id across a double submit: one view, one incident.
            declare_key=f"view:{view['id']}",
            description=form.description,
            detected_via=form.detected_via,
            started_at=form.started_at,
            private=form.private,
            incident_type=typed.incident_type,
            custom_fields=typed.values,
        )
        reply_to = ReplyTarget(user_id, _origin_channel(view))
        source = SourceMessage.from_metadata(form_metadata(view, "message"))  # declared from a message
        vetted = declare_vetter(deps.command_families)

        async def declare() -> None:  # as the command's: vetted first (one from a message keeps its source)
            if vetted is not None and source is None:
                await vetted(new, reply_to)
            else:
                await deps.incidents.declare(new, reply_to=reply_to, from_message=source)

        deps.background.submit(body, declare, lane=PEOPLE, long=True)  # it makes a channel: quick replies first

    @app.view(View.POST_UPDATE)
    async def update_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        known = _text(values, Block.KNOWN)
        if not known:
            await ack(response_action="errors", errors={Block.KNOWN: "Say what we know, even if it's little."})
            return
        next_epoch = (values.get(Block.NEXT_UPDATE, {}).get("value") or {}).get("selected_date_time")
        next_at = epoch_time(next_epoch) if next_epoch else None
        if next_epoch and next_at is None:
            await ack(response_action="errors", errors={Block.NEXT_UPDATE: "Pick a date and time."})
            return
        if next_at is not None and next_at <= deps.clock():
            await ack(response_action="errors", errors={Block.NEXT_UPDATE: "Pick a time in the future."})
            return
        public = read_public_wording(values)
        if isinstance(public, dict):
            await ack(response_action="errors", errors=public)
            return
        await ack()
        received = deps.clock()
        draft = UpdateDraft(known=known, doing=_text(values, Block.DOING), next_at=next_at, next_given=bool(next_epoch))

        actor = body["user"]["id"]

        async def job() -> None:  # a form that names no incident is answered from here, after the ack
            incident_id = form_incident_id(view)
            await deps.response.post_update(
                incident_id, draft=draft, actor=actor, reply_to=None, at=received, public=public
            )

        deps.background.submit(body, job, lane=PEOPLE)

    @app.view(View.RESOLVE)
    async def resolve_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        summary = _text(values, Block.SUMMARY)
        kind = form_metadata(view, "type")  # the type's fields required to resolve, if the form asks them
        typed = read_type_fields(
            values, deps.policy, incident_type=str(kind or ""), when="resolve", shown=block_ids(view)
        )
        if not summary or not isinstance(typed, TypedForm):
            no_summary = {} if summary else {Block.SUMMARY: "Say what restored service."}
            await ack(response_action="errors", errors=merged_errors(no_summary, typed))
            return
        await ack()
        received = deps.clock()
        draft = ResolutionDraft(summary=summary, impact=_text(values, Block.IMPACT), cause=_text(values, Block.CAUSE))

        actor = body["user"]["id"]

        public = _text(values, PUBLIC_TEXT_BLOCK) or None  # the status page's words, if it is on the page

        async def job() -> None:  # a form that names no incident is answered from here, after the ack
            incident_id = form_incident_id(view)
            await deps.lifecycle.resolve(
                incident_id, draft=draft, actor=actor, reply_to=None, at=received, public=public, fields=typed.values
            )

        deps.background.submit(body, job, lane=PEOPLE)


def read_public_wording(values: dict[str, Any]) -> PublicWording | dict[str, str] | None:
    """The update form's status page part: the wording to publish (None: not ticked), or the form's errors."""
    ticked = (values.get(PUBLISH_BLOCK, {}).get("value") or {}).get("selected_options") or []
    text, title = _text(values, PUBLIC_TEXT_BLOCK), _text(values, PUBLIC_TITLE_BLOCK) or None
    if not any(option.get("value") == PUBLISH_OPTION for option in ticked):
        if text or title:
            return {PUBLISH_BLOCK: "Tick “Post to status page” to publish these words, or clear them."}
        return None
    if not text:
        return {PUBLIC_TEXT_BLOCK: "Write what customers should read on the status page."}
    return PublicWording(text, title)


def _text(values: dict[str, Any], block: str) -> str:
    return ((values.get(block, {}).get("value") or {}).get("value") or "").strip()


def _origin_channel(view: dict[str, Any]) -> str | None:
    channel = form_metadata(view, "channel")
    return channel if isinstance(channel, str) else None
