"""Events API: messages pinned or given the timeline reaction join the timeline (replies in threads
too); edits, deletions, un-pins and removed reactions are reflected; opening App Home shows open
incidents; whoever joins an incident channel is caught up (and a private incident's audience is asked
of Slack again).

Each delivery is deduplicated on its event_id in the database, so Slack's retries and several replicas
never add an entry twice. Every field is read before the ack: an event missing one is refused (400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.numbers import epoch_time
from bot.domain.policy import Policy
from bot.domain.source_message import is_slack_ts
from bot.entrypoints.deps import Needs
from bot.runtime.background import Background
from bot.usecases.capture import MessageCapture
from bot.usecases.catch_up import CatchUp
from bot.usecases.live_views import HomeKeeper
from bot.usecases.ports import Clock
from bot.usecases.visibility import Visibility


@dataclass(frozen=True)
class EventDeps(Needs):
    """What these listeners use."""

    capture: MessageCapture
    home: HomeKeeper
    policy: Policy
    background: Background
    catch_up: CatchUp
    visibility: Visibility
    clock: Clock


def register(app: AsyncApp, deps: EventDeps) -> None:
    """Listen for the events in manifest.yml. Their work takes the background's bulk lane (its default):
    nobody waits on a reply to an event, so a flood of them never delays a person's command."""
    capture = deps.capture

    @app.event("pin_added")
    async def pin_added(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        item = _part(event, "item")
        message = _part(item, "message")
        if item.get("type") != "message" or not message.get("ts"):
            await ack()
            return
        event_id, channel_id, ts = _text(body["event_id"]), _text(event["channel_id"]), _ts(message["ts"])
        pinned = _pinned_message(message)
        await ack()
        deps.background.submit(
            body,
            lambda: capture.capture(event_id=event_id, channel_id=channel_id, ts=ts, reason="pin", message=pinned),
        )

    @app.event("pin_removed")
    async def pin_removed(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        message = _part(_part(event, "item"), "message")
        if not message.get("ts"):
            await ack()
            return
        event_id, channel_id, ts = _text(body["event_id"]), _text(event["channel_id"]), _ts(message["ts"])
        await ack()
        deps.background.submit(
            body, lambda: capture.release(event_id=event_id, channel_id=channel_id, ts=ts, reason="pin")
        )

    @app.event("reaction_added")
    async def reaction_added(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        reacted = _timeline_reaction(body, event, deps.policy.timeline_reaction)
        await ack()
        if reacted is not None:
            event_id, channel_id, ts, reason = reacted
            deps.background.submit(
                body,
                lambda: capture.capture(event_id=event_id, channel_id=channel_id, ts=ts, reason=reason, message=None),
            )

    @app.event("reaction_removed")
    async def reaction_removed(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        reacted = _timeline_reaction(body, event, deps.policy.timeline_reaction)
        await ack()
        if reacted is not None:
            event_id, channel_id, ts, reason = reacted
            deps.background.submit(
                body, lambda: capture.release(event_id=event_id, channel_id=channel_id, ts=ts, reason=reason)
            )

    @app.event("message")
    async def message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if subtype == "message_changed":
            changed = _part(event, "message")
            event_id, channel_id, ts = _text(body["event_id"]), _text(event["channel"]), _ts(changed["ts"])
            text = _text(changed.get("text", ""), empty=True)
            await ack()
            deps.background.submit(
                body,
                lambda: capture.message_edited(event_id=event_id, channel_id=channel_id, ts=ts, text=text),
            )
        elif subtype == "message_deleted" and event.get("deleted_ts"):
            event_id, channel_id, ts = _text(body["event_id"]), _text(event["channel"]), _ts(event["deleted_ts"])
            await ack()
            deps.background.submit(
                body, lambda: capture.message_deleted(event_id=event_id, channel_id=channel_id, ts=ts)
            )
        else:
            await ack()

    @app.event("member_joined_channel")
    async def member_joined(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        channel_id, user_id = _text(event["channel"]), _text(event["user"])
        inviter = _text(event["inviter"]) if event.get("inviter") is not None else None
        joined_at = epoch_time(body.get("event_time")) or deps.clock()
        await ack()
        deps.visibility.forget(channel_id)  # a private incident's audience changed
        deps.background.submit(
            body, lambda: deps.catch_up.joined(channel_id, user_id, inviter=inviter, joined_at=joined_at)
        )

    @app.event("member_left_channel")
    async def member_left(ack: AsyncAck, event: dict[str, Any]) -> None:
        channel_id = _text(event["channel"])
        await ack()
        deps.visibility.forget(channel_id)

    @app.event("app_home_opened")
    async def app_home_opened(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            await ack()
            return
        team_id, user_id = _text(body["team_id"]), _text(event["user"])
        await ack()
        deps.background.submit(body, lambda: deps.home.opened(team_id, user_id))


def _timeline_reaction(body: dict[str, Any], event: dict[str, Any], reaction: str) -> tuple[str, str, str, str] | None:
    """(event_id, channel, ts, reason) of the timeline reaction added to or removed from a message; None
    for any other reaction. Read before the ack: a malformed event is refused."""
    item = _part(event, "item")
    if event.get("reaction") != reaction or item.get("type") != "message":
        return None
    reason = f"reaction:{_text(event['user'])}"
    return _text(body["event_id"]), _text(item["channel"]), _ts(item["ts"]), reason


def _pinned_message(message: dict[str, Any]) -> dict[str, Any]:
    """The parts of a pinned message the timeline keeps, each checked (a reply's thread_ts among them)."""
    kept: dict[str, Any] = {"text": _text(message.get("text", ""), empty=True)}
    for key in ("user", "permalink"):
        if message.get(key) is not None:
            kept[key] = _text(message[key])
    if message.get("thread_ts") is not None:
        kept["thread_ts"] = _ts(message["thread_ts"])
    return kept


def _part(container: dict[str, Any], key: str) -> dict[str, Any]:
    """An object inside an event (empty when absent); TypeError when it is something else."""
    value = container.get(key) or {}
    if not isinstance(value, dict):
        raise TypeError(f"{key} is not an object")
    return value


def _ts(value: Any) -> str:
    """A message ts of an event; TypeError (a malformed event, answered 400) when it is not one."""
    if not is_slack_ts(value):
        raise TypeError("expected a message ts")
    return value


def _text(value: Any, *, empty: bool = False) -> str:
    """A text field of an event; TypeError (a malformed event, answered 400) when it is not one."""
    if not isinstance(value, str) or (not value and not empty):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value
