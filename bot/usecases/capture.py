"""Messages captured from an incident channel: a pinned message, or one given the timeline reaction,
joins the timeline at the time it was posted; un-pinning or removing the reaction takes it off (once
nothing holds it); edits and deletions follow. A reply in a thread is captured like any message, linked
to its thread. Each event counts once (its event_id), across replicas."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.source_message import SourceMessage, reply_thread
from bot.runtime.logs import event
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class MessageCapture:
    """The capture use cases."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    clock: Clock

    async def capture(
        self, *, event_id: str, channel_id: str, ts: str, reason: str, message: dict[str, Any] | None
    ) -> bool:
        """Put a pinned or reacted message (or reply) on its incident's timeline, at the time it was posted;
        `message` is Slack's copy when the event carried one, else it is read."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.by_channel(channel_id)
        if incident is None:
            return False
        if message is None:
            message = await self.slack.message(channel_id, ts)
            if message is None:
                return False
        entry = TimelineEntry(
            kind=TimelineKind.MESSAGE,
            occurred_at=_ts_time(ts),
            actor=message.get("user"),
            text=self.messages.plain_from_slack(message.get("text", "")),
            source=_source(channel_id, ts),
            permalink=message.get("permalink"),
            thread_ts=reply_thread(ts, message.get("thread_ts")),
        )
        async with self.uow() as uow:
            if not await uow.incidents.first_delivery(event_id, now=self.clock()):
                return False
            await uow.incidents.capture(incident.id, entry, reason=reason)
            await uow.commit()
        return True

    async def add_message(self, incident: Incident, message: SourceMessage, *, actor: str) -> bool:
        """The "Add to incident timeline" shortcut: the message joins `incident`'s timeline at the time it
        was posted, with its author and permalink. Twice (or after a pin) is a no-op: False."""
        link = message.permalink or await self.slack.permalink(message.channel_id, message.ts)
        entry = replace(message, permalink=link).entry()
        async with self.uow() as uow:
            added = await uow.incidents.capture(incident.id, entry, reason=f"shortcut:{actor}")
            await uow.commit()
        if added:
            event(log, "%s: a message added to the timeline by %s", incident.reference, actor,
                  incident=incident.reference, actor=actor)  # fmt: skip
        return added

    async def release(self, *, event_id: str, channel_id: str, ts: str, reason: str) -> bool:
        """Un-pinning or removing the reaction takes the message off the timeline (once nothing holds it)."""
        async with self.uow() as uow:
            incident = await uow.incidents.by_channel(channel_id)
            if incident is None or not await uow.incidents.first_delivery(event_id, now=self.clock()):
                return False
            removed = await uow.incidents.release(incident.id, _source(channel_id, ts), reason=reason)
            await uow.commit()
        return removed

    async def message_edited(self, *, event_id: str, channel_id: str, ts: str, text: str) -> None:
        """A captured message was edited: the timeline shows the new text."""
        async with self.uow() as uow:
            if await uow.incidents.by_channel(channel_id) is None:
                return
            if await uow.incidents.first_delivery(event_id, now=self.clock()):
                await uow.incidents.edit_message(_source(channel_id, ts), text=self.messages.plain_from_slack(text))
                await uow.commit()

    async def message_deleted(self, *, event_id: str, channel_id: str, ts: str) -> None:
        """A captured message was deleted: it leaves the timeline."""
        async with self.uow() as uow:
            if await uow.incidents.by_channel(channel_id) is None:
                return
            if await uow.incidents.first_delivery(event_id, now=self.clock()):
                await uow.incidents.forget_message(_source(channel_id, ts))
                await uow.commit()


def _source(channel_id: str, ts: str) -> str:
    return f"{channel_id}:{ts}"


def _ts_time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)
