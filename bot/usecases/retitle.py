"""`/incident title <new>`: a new title (checked as a declare's), the channel renamed to follow it within
Slack's rules (a suffix when the name is taken; a private incident's channel never carries its title), the
header and topic refreshed, and its announcements in the stakeholder channels edited in place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.channel_names import channel_name
from bot.domain.errors import SlackError, UserError, slack_error
from bot.domain.events import incident_event
from bot.domain.events_beyond import IncidentRetitled
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind, clean_title
from bot.domain.permissions import Act, require
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.usecases.changes import committed, locked, log_change
from bot.usecases.channel_ports import ChannelRenamer, ChannelTexts
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)


class Refresher(Protocol):
    """The header keeper (live_views.HeaderKeeper)."""

    async def refresh(self, incident_id: int) -> None:
        """Bring the incident's header and topic up to date."""
        ...


@dataclass(frozen=True)
class Retitler:
    """Retitles incidents."""

    uow: UnitOfWorkFactory
    slack: Slack
    renamer: ChannelRenamer
    messages: Messages
    texts: ChannelTexts
    policy: Policy
    clock: Clock
    header: Refresher
    channel_id: Callable[[str], Awaitable[str | None]]  # a channel's ID from its `#name` (the gateway's)
    directory: UserDirectory | None = None

    async def retitle(
        self, incident_id: int, *, title: str, actor: str, reply_to: ReplyTarget | None, at: datetime | None = None
    ) -> Incident:
        """Give the incident `title` (those who may change severity may), then follow it in Slack."""
        new = clean_title(title)
        now = at or self.clock()
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            require(Act.SEVERITY, actor=actor, incident=current, policy=self.policy, directory=directory)
            if current.title == new:
                raise UserError(f"{current.reference} is already titled that.")
            await uow.incidents.update(current.id, title=new)
            note = f"Retitled: “{current.title}” → “{new}”"
            await uow.incidents.record(current.id, TimelineEntry(TimelineKind.RETITLED, now, actor, note))
            await uow.events.append(
                incident_event(IncidentRetitled(previous=current.title, title=new), current, actor=actor, at=now)
            )
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, current, "retitled", actor)
        changed = await self._rename(changed, reply_to)
        if changed.channel_id:
            line = self.texts.retitled_line(current.title, new, actor)
            await _quietly(changed, "retitle notice", self.slack.post(changed.channel_id, line))
        await asyncio.gather(self.header.refresh(changed.id), self._announcements(changed))
        return changed

    async def _rename(self, incident: Incident, reply_to: ReplyTarget | None) -> Incident:
        """The channel follows the title (a private incident's keeps its title-free name)."""
        if incident.private or incident.channel_id is None:
            return incident
        prefix, number, title = self.policy.channel_prefix, incident.number, incident.title
        try:
            name = await self.renamer.rename(
                incident.channel_id,
                lambda attempt: channel_name(prefix, number, title, attempt=attempt),
                current=incident.channel_name,
            )
        except SlackError as exc:
            log.warning("%s: its channel was not renamed: %s", incident.reference, exc.error)
            if reply_to is not None:
                said = f"The title changed, but Slack would not rename the channel ({exc.error})."
                await _quietly(incident, "rename reply", self.slack.reply(reply_to, said))
            return incident
        if name == incident.channel_name:
            return incident
        async with self.uow() as uow:
            await uow.incidents.update(incident.id, channel_name=name)
            await uow.channels.remember(incident.id, incident.channel_id, name)
            await uow.channels.change(incident.channel_id, name=name)
            fresh = await committed(uow, incident.id)
            await uow.commit()
        return fresh

    async def _announcements(self, incident: Incident) -> None:
        """Each stakeholder channel's announcement shows the new title (found by its mark; a private
        incident's notice never carried it)."""
        if incident.private or not self.slack.bot_user_id:
            return
        marker = self.messages.announcement_marker(incident.id)
        text, body = self.messages.announcement(incident)
        for channel in self.policy.stakeholder_channels(incident.severity):
            try:
                channel_id = await self.channel_id(channel)
                ts = (
                    await self.slack.find_own_message(channel_id, marker, author=self.slack.bot_user_id)
                    if channel_id
                    else None
                )
                if channel_id and ts is not None:
                    await self.slack.update_message(channel_id, ts, text, body)
            except Exception as exc:
                log.warning(
                    "%s: the announcement in %s was not retitled: %s", incident.reference, channel, slack_error(exc)
                )


async def _quietly(incident: Incident, what: str, call: Awaitable[object]) -> None:
    try:
        await call
    except Exception as exc:
        log.warning("%s: %s failed: %s", incident.reference, what, slack_error(exc))
