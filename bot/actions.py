"""The header message's buttons and selects. Each control's block_id carries the incident id."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.context import Deps
from bot.errors import UserError
from bot.ids import Action
from bot.incidents import Incident
from bot.mrkdwn import is_user_id
from bot.numbers import parse_id
from bot.permissions import Act, require
from bot.slack_io import ReplyTarget


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for the header's controls."""

    @app.action(Action.ACKNOWLEDGE)
    async def acknowledge(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        received = deps.incidents.clock()

        async def job() -> None:
            incident = await _incident_here(deps, body)
            await deps.response.acknowledge(incident, actor=_actor(body), reply_to=_reply_to(body), at=received)

        deps.background.submit(body, job)

    @app.action(Action.SET_SEVERITY)
    async def set_severity(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        received = deps.incidents.clock()

        async def job() -> None:
            incident = await _incident_here(deps, body)
            severity = action["selected_option"]["value"]
            await deps.response.change_severity(
                incident, severity=severity, reason="", actor=_actor(body), reply_to=_reply_to(body), at=received
            )

        deps.background.submit(body, job)

    def assigner(role: str) -> Any:
        # Bolt fills listener arguments by name, so the role is closed over, not a parameter.
        async def assign(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            received = deps.incidents.clock()

            async def job() -> None:
                incident = await _incident_here(deps, body)
                user_id = action.get("selected_user")
                if not is_user_id(user_id):
                    raise UserError("Pick a person from the list.")
                await deps.response.assign_role(incident, role=role, user_id=user_id, actor=_actor(body), at=received)

            deps.background.submit(body, job)

        return assign

    register_page_buttons(app, deps)
    register_runbook_controls(app, deps)
    app.action(Action.ASSIGN_IC)(assigner("incident_commander"))
    app.action(Action.ASSIGN_COMMS)(assigner("comms_lead"))

    @app.action(Action.POST_UPDATE)
    async def post_update(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()

        async def job() -> None:
            incident = await _incident_here(deps, body)
            modal = blocks.update_modal(incident, next_at=deps.response.draft_next_update(incident))
            await deps.slack.open_view(body["trigger_id"], modal)

        deps.background.submit(body, job, urgent=True)

    @app.action(Action.RESOLVE)
    async def resolve(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()

        async def job() -> None:
            incident = await _incident_here(deps, body)
            if not incident.status.is_open:
                raise UserError(f"{incident.reference} is already {incident.status.label.lower()}.")
            require(Act.RESOLVE, actor=_actor(body), incident=incident, policy=deps.policy)
            await deps.slack.open_view(body["trigger_id"], blocks.resolve_modal(incident))

        deps.background.submit(body, job, urgent=True)


def register_page_buttons(app: AsyncApp, deps: Deps) -> None:
    """Acknowledge and Decline on a page DM."""

    @app.action(Action.PAGE_ACKNOWLEDGE)
    async def acknowledge_page(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        received = deps.incidents.clock()
        page_id = _page_id(body)
        deps.background.submit(
            body, lambda: deps.pager.acknowledge(page_id, actor=_actor(body), reply_to=_reply_to(body), at=received)
        )

    @app.action(Action.PAGE_DECLINE)
    async def decline_page(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        received = deps.incidents.clock()
        page_id = _page_id(body)
        deps.background.submit(
            body, lambda: deps.pager.decline(page_id, actor=_actor(body), reply_to=_reply_to(body), at=received)
        )


def register_runbook_controls(app: AsyncApp, deps: Deps) -> None:
    """Ticking runbook steps, and the Post buttons of `/incident runbook`."""

    @app.action(blocks.RUNBOOK_STEPS)
    async def runbook_step(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        received = deps.incidents.clock()
        prefix, incident_id, name, _group = _block_parts(action, 4)
        if prefix != blocks.RUNBOOK_BLOCK or (number := parse_id(incident_id)) is None:
            return
        # The step toggled is the one whose state differs from the message as this person saw it.
        seen = _initial_options(body.get("message") or {}, action["block_id"])
        now = {o["value"] for o in action.get("selected_options") or []}
        changes = [(step, True) for step in now - seen] + [(step, False) for step in seen - now]

        async def job() -> None:
            _in_its_channel(await deps.response.get(number), body)
            for step, ticked in changes:
                await deps.runbooks.toggle(number, name, step, ticked=ticked, actor=_actor(body), at=received)

        deps.background.submit(body, job)

    @app.action(blocks.RUNBOOK_POST)
    async def post_runbook(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        prefix, incident_id, _name = _block_parts(action, 3)

        async def job() -> None:
            if prefix != "rbpost" or (number := parse_id(incident_id)) is None:
                raise UserError("That button isn't attached to an incident any more.")
            incident = await deps.response.get(number)
            await deps.runbooks.post_named(incident, action["value"], actor=_actor(body), reply_to=_reply_to(body))

        deps.background.submit(body, job)


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


async def _incident_here(deps: Deps, body: dict[str, Any]) -> Incident:
    """The incident a header control names, refused unless it was clicked in that incident's channel."""
    return _in_its_channel(await deps.response.get(_incident_id(body)), body)


def _in_its_channel(incident: Incident, body: dict[str, Any]) -> Incident:
    """`incident`, when the control was clicked in its channel (a crafted block_id may name another)."""
    if (body.get("channel") or {}).get("id") != incident.channel_id:
        raise UserError("That control belongs to another incident's channel.")
    return incident


def _actor(body: dict[str, Any]) -> str:
    return str(body["user"]["id"])


def _reply_to(body: dict[str, Any]) -> ReplyTarget:
    return ReplyTarget(_actor(body), (body.get("channel") or {}).get("id"), body.get("response_url"))
