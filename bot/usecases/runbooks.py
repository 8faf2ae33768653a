"""Runbooks in the incident channel: posted when they match (on declare and when severity changes),
listed and posted on request, and ticked step by step with who and when on the timeline."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.errors import UserError, slack_error
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.runbooks import Runbook, RunbookLibrary
from bot.domain.slack_values import ReplyTarget
from bot.runtime.coalesce import Coalescer
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class RunbookService:
    """The runbook use cases."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    library: RunbookLibrary
    clock: Clock
    _refresh: Coalescer[tuple[int, str]] = field(init=False)

    def __post_init__(self) -> None:
        """Checklist edits for one runbook are coalesced, like the header's."""
        self._refresh = Coalescer(self._rerender)

    def matching(self, incident: Incident) -> list[Runbook]:
        """The runbooks that apply to an incident now."""
        return self.library.matching(
            title=incident.title,
            service=incident.service,
            severity=incident.severity,
            incident_type=incident.incident_type,
        )

    async def post_matching(self, incident: Incident) -> list[str]:
        """Post every matching runbook not posted yet (on declare, and when severity changes)."""
        async with self.uow(read_only=True) as uow:
            posted = await uow.runbooks.posted(incident.id)
        fresh = [r for r in self.matching(incident) if r.name not in posted]
        for runbook in fresh:
            await self._post(incident, runbook, actor=None)
        return [r.name for r in fresh]

    async def post_named(self, incident: Incident, name: str, *, actor: str, reply_to: ReplyTarget) -> None:
        """`/incident runbook <name>` or the Post button."""
        runbook = self.library.all().get(name)
        if runbook is None:
            known = ", ".join(sorted(self.library.all())) or "none"
            raise UserError(f"There is no runbook called “{self.messages.escape(name[:60])}” (available: {known}).")
        async with self.uow(read_only=True) as uow:
            posted = await uow.runbooks.posted(incident.id)
        if name in posted:
            await self.slack.reply(reply_to, f"The {runbook.meta.title} runbook is already in this channel.")
            return
        await self._post(incident, runbook, actor=actor)

    async def listing(self, incident: Incident) -> tuple[str, list[dict[str, object]]]:
        """`/incident runbook`: matching runbooks with a Post button each."""
        async with self.uow(read_only=True) as uow:
            posted = await uow.runbooks.posted(incident.id)
        return self.messages.runbook_list(incident, self.matching(incident), set(posted))

    async def toggle(
        self, incident_id: int, runbook_name: str, step_id: str, *, ticked: bool, actor: str, at: datetime | None = None
    ) -> bool:
        """Tick or untick one step; records who and when, then updates the checklist for everyone.
        False when nothing changed (two people ticked the same step: the first one counts)."""
        runbook = self.library.all().get(runbook_name)
        step = next((s for s in runbook.steps if s.id == step_id), None) if runbook else None
        if runbook is None or step is None:
            raise UserError("That runbook step no longer exists (the runbook was edited).")
        now = at or self.clock()
        async with self.uow() as uow:
            if ticked:
                changed = await uow.runbooks.tick(incident_id, runbook_name, step_id, user_id=actor, now=now)
            else:
                changed = await uow.runbooks.untick(incident_id, runbook_name, step_id)
            if changed:
                verb = "Ticked" if ticked else "Unticked"
                note = f"{verb} “{step.text}” ({runbook.meta.title})"
                await uow.incidents.record(incident_id, TimelineEntry(TimelineKind.RUNBOOK, now, actor, note))
            await uow.commit()
        await self._refresh.request((incident_id, runbook_name))
        return changed

    async def _post(self, incident: Incident, runbook: Runbook, *, actor: str | None) -> None:
        if incident.channel_id is None:
            return
        parts: list[tuple[str, str]] = []
        for text, body in self.messages.runbook_messages(incident.id, runbook, set()):
            parts.append((incident.channel_id, await self.slack.post(incident.channel_id, text, body)))
        async with self.uow() as uow:
            if await uow.runbooks.remember_post(incident.id, runbook.name, parts):
                note = f"Runbook posted: {runbook.meta.title}"
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.RUNBOOK, self.clock(), actor, note))
            await uow.commit()

    async def _rerender(self, key: tuple[int, str]) -> None:
        incident_id, name = key
        runbook = self.library.all().get(name)
        async with self.uow(read_only=True) as uow:
            posted = (await uow.runbooks.posted(incident_id)).get(name, [])
            ticked = await uow.runbooks.ticked(incident_id, name)
        if runbook is None:
            return
        checklist = self.messages.runbook_messages(incident_id, runbook, ticked)
        calls = [
            self.slack.update_message(channel, ts, text, body)
            for (channel, ts), (text, body) in zip(posted, checklist, strict=False)
        ]
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("runbook %s: checklist not updated: %s", name, slack_error(result))
