"""Events API: messages pinned or given the timeline reaction join the timeline; edits, deletions,
un-pins and removed reactions are reflected; opening App Home shows open incidents.

Each delivery is deduplicated on its event_id in the database, so Slack's retries and several replicas
never add an entry twice.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for the events in manifest.yml."""
    response = deps.response

    @app.event("pin_added")
    async def pin_added(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        item = event.get("item") or {}
        message = item.get("message") or {}
        if item.get("type") == "message" and message.get("ts"):
            deps.background.submit(
                body,
                lambda: response.capture(
                    event_id=body["event_id"],
                    channel_id=event["channel_id"],
                    ts=message["ts"],
                    reason="pin",
                    message=message,
                ),
            )

    @app.event("pin_removed")
    async def pin_removed(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        message = (event.get("item") or {}).get("message") or {}
        if message.get("ts"):
            deps.background.submit(
                body,
                lambda: response.release(
                    event_id=body["event_id"], channel_id=event["channel_id"], ts=message["ts"], reason="pin"
                ),
            )

    @app.event("reaction_added")
    async def reaction_added(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        item = event.get("item") or {}
        if event.get("reaction") == deps.policy.timeline_reaction and item.get("type") == "message":
            deps.background.submit(
                body,
                lambda: response.capture(
                    event_id=body["event_id"],
                    channel_id=item["channel"],
                    ts=item["ts"],
                    reason=f"reaction:{event['user']}",
                    message=None,
                ),
            )

    @app.event("reaction_removed")
    async def reaction_removed(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        item = event.get("item") or {}
        if event.get("reaction") == deps.policy.timeline_reaction and item.get("type") == "message":
            deps.background.submit(
                body,
                lambda: response.release(
                    event_id=body["event_id"],
                    channel_id=item["channel"],
                    ts=item["ts"],
                    reason=f"reaction:{event['user']}",
                ),
            )

    @app.event("message")
    async def message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        subtype, channel_id = event.get("subtype"), event.get("channel", "")
        if subtype == "message_changed":
            changed = event.get("message") or {}
            deps.background.submit(
                body,
                lambda: response.message_edited(
                    event_id=body["event_id"], channel_id=channel_id, ts=changed["ts"], text=changed.get("text", "")
                ),
            )
        elif subtype == "message_deleted" and event.get("deleted_ts"):
            deps.background.submit(
                body,
                lambda: response.message_deleted(
                    event_id=body["event_id"], channel_id=channel_id, ts=event["deleted_ts"]
                ),
            )

    @app.event("app_home_opened")
    async def app_home_opened(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab") == "home":
            deps.background.submit(body, lambda: deps.home.opened(body["team_id"], event["user"]))
