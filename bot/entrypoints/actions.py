"""The header message's buttons and selects. Each control's block_id carries the incident id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import UserError
from bot.domain.incidents import Incident
from bot.domain.numbers import parse_id
from bot.domain.policy import Policy
from bot.entrypoints.deps import Needs
from bot.entrypoints.listening import Request, Work, accepted
from bot.runtime.background import Background
from bot.slack import blocks
from bot.slack.gateway import ReplyTarget, SlackGateway
from bot.slack.ids import Action
from bot.slack.mrkdwn import is_user_id
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock
from bot.usecases.respond import ResponseService
from bot.usecases.runbooks import RunbookService


@dataclass(frozen=True)
class ActionDeps(Needs):
    """What these listeners use."""

    response: ResponseService
    lifecycle: Lifecycle
    pager: Pager
    runbooks: RunbookService
    slack: SlackGateway
    policy: Policy
    background: Background
    clock: Clock


def register(app: AsyncApp, deps: ActionDeps) -> None:
    """Listen for the header's controls."""
    work = accepted(deps.background, deps.clock)
    form = accepted(deps.background, deps.clock, urgent=True)

    @app.action(Action.ACKNOWLEDGE)
    @work
    async def acknowledge(request: Request) -> None:
        await deps.response.acknowledge(
            _incident_id(request.body),
            actor=request.actor,
            reply_to=request.reply_to,
            at=request.received,
            in_channel=_clicked_in(request.body),
        )

    @app.action(Action.SET_SEVERITY)
    @work
    async def set_severity(request: Request) -> None:
        await deps.response.change_severity(
            _incident_id(request.body),
            severity=request.action["selected_option"]["value"],
            reason="",
            actor=request.actor,
            reply_to=request.reply_to,
            at=request.received,
            in_channel=_clicked_in(request.body),
        )

    def assigner(role: str) -> Work:
        async def assign(request: Request) -> None:
            user_id = request.action.get("selected_user")
            if not is_user_id(user_id):
                raise UserError("Pick a person from the list.")
            await deps.response.assign_role(
                _incident_id(request.body),
                role=role,
                user_id=user_id,
                actor=request.actor,
                at=request.received,
                in_channel=_clicked_in(request.body),
            )

        return assign

    register_page_buttons(app, deps)
    register_runbook_controls(app, deps)
    app.action(Action.ASSIGN_IC)(work(assigner("incident_commander")))
    app.action(Action.ASSIGN_COMMS)(work(assigner("comms_lead")))

    @app.action(Action.POST_UPDATE)
    @form
    async def post_update(request: Request) -> None:
        incident = await _incident_here(deps, request.body)
        modal = blocks.update_modal(incident, next_at=deps.response.draft_next_update(incident))
        await deps.slack.open_view(request.body["trigger_id"], modal)

    @app.action(Action.RESOLVE)
    @form
    async def resolve(request: Request) -> None:
        incident = await _incident_here(deps, request.body)
        if not incident.status.is_open:
            raise UserError(f"{incident.reference} is already {incident.status.label.lower()}.")
        await deps.lifecycle.check_may_resolve(incident, actor=request.actor)
        await deps.slack.open_view(request.body["trigger_id"], blocks.resolve_modal(incident, deps.policy))


def register_page_buttons(app: AsyncApp, deps: ActionDeps) -> None:
    """Acknowledge and Decline on a page DM, and Acknowledge all on a storm's digest DM."""
    work = accepted(deps.background, deps.clock)

    @app.action(Action.PAGE_ACKNOWLEDGE)
    @work
    async def acknowledge_page(request: Request) -> None:
        page_id = _page_id(request.body)
        await deps.pager.acknowledge(page_id, actor=request.actor, reply_to=request.reply_to, at=request.received)

    @app.action(Action.PAGE_DECLINE)
    @work
    async def decline_page(request: Request) -> None:
        page_id = _page_id(request.body)
        await deps.pager.decline(page_id, actor=request.actor, reply_to=request.reply_to, at=request.received)

    @app.action(Action.PAGE_ACKNOWLEDGE_ALL)
    @work
    async def acknowledge_all_pages(request: Request) -> None:
        prefix, _, number = str(request.action.get("block_id", "")).partition(":")
        if prefix != blocks.PAGE_DIGEST_BLOCK or (digest_id := parse_id(number)) is None:
            raise UserError("That button isn't attached to your pages any more.")
        await deps.pager.acknowledge_all(digest_id, actor=request.actor, reply_to=request.reply_to, at=request.received)


def register_runbook_controls(app: AsyncApp, deps: ActionDeps) -> None:
    """Ticking runbook steps, and the Post buttons of `/incident runbook`."""
    work = accepted(deps.background, deps.clock)

    @app.action(blocks.RUNBOOK_STEPS)
    @work
    async def runbook_step(request: Request) -> None:
        action = request.action
        prefix, incident_id, name, _group = _block_parts(action, 4)
        if prefix != blocks.RUNBOOK_BLOCK or (number := parse_id(incident_id)) is None:
            return
        # The step toggled is the one whose state differs from the message as this person saw it.
        seen = _initial_options(request.body.get("message") or {}, action["block_id"])
        now = {o["value"] for o in action.get("selected_options") or []}
        changes = [(step, True) for step in now - seen] + [(step, False) for step in seen - now]
        _in_its_channel(await deps.response.get(number), request.body)
        for step, ticked in changes:
            await deps.runbooks.toggle(number, name, step, ticked=ticked, actor=request.actor, at=request.received)

    @app.action(blocks.RUNBOOK_POST)
    @work
    async def post_runbook(request: Request) -> None:
        prefix, incident_id, _name = _block_parts(request.action, 3)
        if prefix != "rbpost" or (number := parse_id(incident_id)) is None:
            raise UserError("That button isn't attached to an incident any more.")
        incident = await deps.response.get(number)
        await deps.runbooks.post_named(
            incident, request.action["value"], actor=request.actor, reply_to=request.reply_to
        )


def _block_parts(action: dict[str, Any], count: int) -> list[str]:
    """A control's block_id split on ':' into exactly `count` parts (missing parts empty)."""
    parts = str(action.get("block_id", "")).split(":")
    return [*parts, *([""] * count)][:count]


def _initial_options(message: dict[str, Any], block_id: str) -> set[str]:
    for block in message.get("blocks") or []:
        if block.get("block_id") == block_id:
            for element in block.get("elements") or []:
                return {o["value"] for o in element.get("initial_options") or []}
    return set()


def _page_id(body: dict[str, Any]) -> int:
    prefix, _, number = str(body["actions"][0].get("block_id", "")).partition(":")
    page_id = parse_id(number)
    if prefix != blocks.PAGE_BLOCK or page_id is None:
        raise UserError("That button isn't attached to a page any more.")
    return page_id


def _incident_id(body: dict[str, Any]) -> int:
    block_id = str(body["actions"][0].get("block_id", ""))
    prefix, _, number = block_id.partition(":")
    incident_id = parse_id(number)
    if prefix != blocks.CONTROLS_BLOCK or incident_id is None:
        raise UserError("That control isn't attached to an incident any more.")
    return incident_id


async def _incident_here(deps: ActionDeps, body: dict[str, Any]) -> Incident:
    """The incident a header control names, refused unless it was clicked in that incident's channel."""
    return _in_its_channel(await deps.response.get(_incident_id(body)), body)


def _in_its_channel(incident: Incident, body: dict[str, Any]) -> Incident:
    """`incident`, when the control was clicked in its channel (a crafted block_id may name another)."""
    if _clicked_in(body) != incident.channel_id:
        raise UserError("That control belongs to another incident's channel.")
    return incident


def _clicked_in(body: dict[str, Any]) -> str:
    """The channel a control was used in ("" when Slack said none: no incident's channel)."""
    return str((body.get("channel") or {}).get("id") or "")


def _actor(body: dict[str, Any]) -> str:
    return str(body["user"]["id"])


def _reply_to(body: dict[str, Any]) -> ReplyTarget:
    return ReplyTarget(_actor(body), (body.get("channel") or {}).get("id"), body.get("response_url"))
