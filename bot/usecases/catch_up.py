"""Catching people up: `/incident summary`, the summary whoever joins an incident channel gets (once per
person and incident), and the new Incident Commander's summary by DM on handover."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.incidents import Incident, TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.summary import HUMAN_KINDS, IncidentSummary, RunbookProgress, summarise
from bot.runtime.logs import event
from bot.usecases.hooks import IncidentContext
from bot.usecases.message_ports import Message, Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService

log = logging.getLogger(__name__)

# Someone Tocsin invited as it assigned them a role was told why by the role message: no welcome then.
ROLE_INVITE_WINDOW = timedelta(seconds=5)
# The newest entries read to find the last update and the last few made by people.
NEWEST_READ = 50


@dataclass
class CatchUp:
    """Builds and sends incident summaries."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    runbooks: RunbookService
    context: tuple[IncidentContext, ...] = ()  # what the capabilities add (related incidents…)

    async def summary(self, incident_id: int) -> IncidentSummary | None:
        """The incident at a glance, as stored now (None when it is gone)."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(incident_id)
            if incident is None:
                return None
            latest = await uow.summaries.newest(incident_id, kinds=HUMAN_KINDS, limit=NEWEST_READ)
            follow_ups = await uow.follow_ups.of_incident(incident_id)
            pages = await uow.pages.for_incident(incident_id)
            posted = await uow.runbooks.posted(incident_id)
            ticked = {name: await uow.runbooks.ticked(incident_id, name) for name in posted}
        library = self.runbooks.library.all()
        progress = [
            RunbookProgress(name, len(ticked[name] & {s.id for s in library[name].steps}), len(library[name].steps))
            for name in posted
            if name in library
        ]
        if len(latest) == NEWEST_READ and not any(e.kind is TimelineKind.UPDATE for e in latest):
            async with self.uow(read_only=True) as uow:  # a long quiet spell of notes: find the last update
                latest += await uow.summaries.newest(incident_id, kinds={TimelineKind.UPDATE}, limit=1)
        return summarise(
            incident,
            latest=latest,
            follow_ups=follow_ups,
            pages=pages,
            runbooks=progress,
            now=self.clock(),
            automatic_actor=self.slack.bot_user_id,
        )

    async def show(self, incident: Incident, *, share: bool, reply_to: ReplyTarget) -> None:
        """`/incident summary`: privately, or (`share`) posted in the incident's own channel when typed there."""
        found = await self.summary(incident.id)
        if found is None:
            return
        posted = share and reply_to.channel_id and reply_to.channel_id == incident.channel_id
        message = self.messages.catch_up_message(found, self.policy)
        message = await self._with_context(found.incident, message, viewer=None if posted else reply_to.user_id)
        if posted and incident.channel_id:
            await self.slack.post(incident.channel_id, *message)
        else:
            await self.slack.reply(reply_to, *message)

    async def joined(self, channel_id: str, user_id: str, *, inviter: str | None, joined_at: datetime) -> None:
        """member_joined_channel: welcome the person if the channel is an incident's."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.by_channel(channel_id)
        if incident is not None:
            await self.welcome(incident, user_id, inviter=inviter, joined_at=joined_at)

    async def welcome(self, incident: Incident, user_id: str, *, inviter: str | None, joined_at: datetime) -> bool:
        """Someone joined the incident's channel: show them the summary, once per person and incident. Not
        for Tocsin, nor for someone Tocsin invited along with a role (the role message says why)."""
        if user_id == self.slack.bot_user_id or incident.channel_id is None:
            return False
        if (
            inviter is not None
            and inviter == self.slack.bot_user_id
            and await self._just_given_a_role(incident, user_id, joined_at)
        ):
            return False
        async with self.uow() as uow:
            first = await uow.incidents.first_delivery(f"welcome:{incident.id}:{user_id}", now=self.clock())
            await uow.commit()
        if not first:
            return False
        found = await self.summary(incident.id)
        if found is None:
            return False
        message = await self._with_context(
            found.incident, self.messages.catch_up_message(found, self.policy), viewer=user_id
        )
        await self.slack.reply(ReplyTarget(user_id, incident.channel_id), *message)
        event(
            log,
            "%s: summary shown to %s, who joined",
            incident.reference,
            user_id,
            incident=incident.reference,
            actor=user_id,
        )
        return True

    async def handover(self, incident: Incident, new_commander: str) -> None:
        """The new Incident Commander gets the summary by DM."""
        if new_commander == self.slack.bot_user_id:
            return
        found = await self.summary(incident.id)
        if found is None:
            return
        message = self.messages.catch_up_message(found, self.policy)
        _, body = await self._with_context(found.incident, message, viewer=new_commander)
        title = self.messages.incident_title_line(found.incident)
        intro = f":wave: You're now the Incident Commander of {title}. Where it stands:"
        await self.slack.dm(new_commander, intro, [self.messages.section(intro), *body])

    async def _with_context(self, incident: Incident, message: Message, *, viewer: str | None) -> Message:
        """The summary with what the capabilities add (`context`), as `viewer` may see it (None: a post)."""
        lines = [line for context in self.context for line in await context.lines(incident, viewer=viewer)]
        if not lines:
            return message
        text, body = message
        return text, [*body, self.messages.section("\n".join(lines))]

    async def _just_given_a_role(self, incident: Incident, user_id: str, joined_at: datetime) -> bool:
        async with self.uow(read_only=True) as uow:
            spans = await uow.incidents.role_history(incident.id)
        return any(s.user_id == user_id and abs(s.start - joined_at) <= ROLE_INVITE_WINDOW for s in spans)
