"""Status-update reminders: a nag in the channel when an update is overdue, a DM to the Incident
Commander when the next interval also passes. Fired by the timer tick (bot/entrypoints/timers.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.timer_results import Released, ReminderSent, TimerResult
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack

log = logging.getLogger(__name__)


@dataclass
class Reminders:
    """Sends the update reminder an incident's timer says is due."""

    slack: Slack
    messages: Messages
    policy: Policy
    metrics: Metrics
    clock: Clock

    async def send(self, incident: Incident, *, now: datetime) -> TimerResult:
        """Send the reminder due on `incident` (as the tick claimed it); what to record."""
        if incident.reminder_at is None or not incident.status.is_open:
            return Released("reminder", incident.id)
        due_at = incident.reminder_at
        level = incident.reminders_sent
        if level == 0:
            target = incident.roles.get("comms_lead") or incident.commander
            if incident.channel_id:
                await self.slack.post(
                    incident.channel_id, *self.messages.reminder_nag(incident, target=target, due_at=due_at)
                )
            next_at = due_at + self._interval(incident)
            note = "Update overdue: the channel was reminded"
        else:
            if incident.commander:
                await self.slack.dm(incident.commander, *self.messages.reminder_dm(incident, due_at=due_at))
            next_at = None
            note = "Update still overdue: the Incident Commander was messaged"
        return ReminderSent(
            incident_id=incident.id,
            due_at=due_at,
            sent=level + 1,
            next_at=next_at,
            entry=TimelineEntry(TimelineKind.REMINDER, now, None, note),
            sent_at=self.clock(),
        )

    def recorded(self, result: ReminderSent) -> None:
        """The reminder is on record: count how late it went out."""
        event(
            log, "incident %s: update reminder %d sent", result.incident_id, result.sent, incident_id=result.incident_id
        )
        late = (result.sent_at - result.due_at).total_seconds()
        self.metrics.timer_lateness.labels("reminder").observe(max(0.0, late))

    def _interval(self, incident: Incident) -> timedelta:
        severity = self.policy.severity_named(incident.severity)
        if incident.last_update_at is None or severity is None or severity.update_every is None:
            return self.policy.first_update_within
        return severity.update_every
