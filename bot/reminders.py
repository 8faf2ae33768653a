"""Status-update reminders: a nag in the channel when an update is overdue, a DM to the Incident
Commander when the next interval also passes. Fired by the timer tick (bot/timers.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import blocks
from bot.incidents import Incident, TimelineEntry, TimelineKind
from bot.metrics import Metrics
from bot.policy import Policy
from bot.slack_io import SlackGateway
from bot.uow_types import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class Reminders:
    """Sends the update reminder an incident's timer says is due."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    policy: Policy
    metrics: Metrics
    clock: Clock

    async def fire(self, incident_id: int, *, token: str, now: datetime, incident: Incident | None = None) -> None:
        """Send the due reminder, then record it and set the next one in one transaction.

        `incident` is the incident as the tick loaded it (with everything it claimed); read here otherwise.
        """
        if incident is None:
            async with self.uow(read_only=True) as uow:
                incident = await uow.incidents.get(incident_id)
        if incident is None or incident.reminder_at is None or not incident.status.is_open:
            async with self.uow() as uow:
                await uow.pages.release_reminder(incident_id, token=token)
                await uow.commit()
            return
        due_at = incident.reminder_at
        level = incident.reminders_sent
        if level == 0:
            target = incident.roles.get("comms_lead") or incident.commander
            if incident.channel_id:
                await self.slack.post(incident.channel_id, *blocks.reminder_nag(incident, target=target, due_at=due_at))
            next_at = due_at + self._interval(incident)
            note = "Update overdue: the channel was reminded"
        else:
            if incident.commander:
                await self.slack.dm(incident.commander, *blocks.reminder_dm(incident, due_at=due_at))
            next_at = None
            note = "Update still overdue: the Incident Commander was messaged"
        async with self.uow() as uow:
            done = await uow.pages.finish_reminder(
                incident_id, token=token, due_at=due_at, sent=level + 1, next_at=next_at
            )
            if done:
                await uow.incidents.record(incident_id, TimelineEntry(TimelineKind.REMINDER, now, None, note))
            await uow.commit()
        self.metrics.timer_lateness.labels("reminder").observe(max(0.0, (self.clock() - due_at).total_seconds()))

    def _interval(self, incident: Incident) -> timedelta:
        severity = self.policy.severity_named(incident.severity)
        if incident.last_update_at is None or severity is None or severity.update_every is None:
            return self.policy.first_update_within
        return severity.update_every
