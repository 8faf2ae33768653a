"""Alerts in: store and deduplicate them, page the routed escalation policy, declare when the route says
so, and cancel pages nobody acknowledged when the alerts resolve.

One group (Alertmanager/Grafana groupKey, or a generic dedup_key) gets one page and at most one
incident, decided by whichever request created the group row; repeats only update the stored alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot import blocks
from bot.alerts import AlertBatch, decide, most_severe
from bot.background import Background
from bot.escalation import plan_for_policy
from bot.incidents import DetectedVia, Incident, NewIncident, TimelineEntry, TimelineKind
from bot.keys import fit_key
from bot.logs import event
from bot.mrkdwn import escape, safe_url
from bot.mrkdwn import link as mrkdwn_link
from bot.paging import Pager
from bot.policy import Policy
from bot.service import IncidentService
from bot.slack_io import SlackGateway, slack_error
from bot.uow_types import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class AlertIntake:
    """Handles one webhook delivery."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    policy: Policy
    clock: Clock
    pager: Pager
    incidents: IncidentService
    background: Background
    workspace: Callable[[], tuple[str, str]]  # (team id, bot user id) from auth.test

    async def receive(self, batch: AlertBatch) -> dict[str, object]:
        """Store the batch; start, update or stand down what it calls for. Returns a short summary."""
        now = self.clock()
        async with self.uow() as uow:
            group, created = await uow.alerts.group(batch.source, batch.group_key, now=now)
            assert group.id is not None
            firing_before = 0 if created else await uow.alerts.firing_in(group.id)
            for alert in batch.alerts:
                await uow.alerts.record(group.id, batch.source, alert, now=now)
            firing = await uow.alerts.firing_in(group.id)
            generation = group.generation
            # Firing again after every alert resolved is a new occurrence: a new page (and incident).
            refired = not created and firing_before == 0 and firing > 0
            if refired:
                generation = await uow.alerts.next_generation(group.id)
            await uow.commit()
        firing_now = sum(a.firing for a in batch.alerts)
        if (created or refired) and firing_now:
            event(
                log,
                "alert group %s (%s): %d firing, new; routing it",
                group.id,
                batch.source,
                firing_now,
                source=batch.source,
            )
            await self._start(group.id, batch, generation)
            return {"group": group.id, "action": "started"}
        event(
            log,
            "alert group %s (%s): %d alerts received, deduplicated into the group",
            group.id,
            batch.source,
            len(batch.alerts),
            source=batch.source,
        )
        if group.incident_id:
            notes = [f"Alert {'firing' if a.firing else 'resolved'}: {a.title}" for a in batch.alerts]
            async with self.uow() as uow:
                await uow.incidents.record(
                    group.incident_id, *(TimelineEntry(TimelineKind.ALERT, now, None, n) for n in notes)
                )
                await uow.commit()
        if firing == 0 and group.page_id:
            await self.pager.cancel(group.page_id, reason="its alerts resolved")
            return {"group": group.id, "action": "resolved"}
        return {"group": group.id, "action": "updated"}

    async def _start(self, group_id: int, batch: AlertBatch, generation: int) -> None:
        lead = most_severe([a for a in batch.alerts if a.firing], self.policy)
        decision = decide(lead, self.policy)
        route = (
            f"declare at {decision.severity}" if decision.declare else f"page {decision.escalation_policy or 'nobody'}"
        )
        event(
            log, "alert group %s routed: %s, %s", group_id, decision.service or "no service", route, source=batch.source
        )
        team_id, bot_user = self.workspace()
        title = f"{lead.title}" + (f" (+{len(batch.alerts) - 1} more)" if len(batch.alerts) > 1 else "")
        if decision.declare:
            starts = [a.starts_at for a in batch.alerts if a.starts_at]
            new = NewIncident(
                team_id=team_id,
                title=title[:120],
                severity=decision.severity,
                declared_by=bot_user,
                declare_key=fit_key(f"alert:{batch.source}:{generation}:{batch.group_key}", 255),
                description=escape(lead.description)[:2000],
                detected_via=DetectedVia.MONITORING,
                started_at=min(starts) if starts else None,
                detected_at=min(starts) if starts else None,
                service=decision.service,
            )
            # Declaring talks to Slack for a while: answer the webhook now, finish in the background.
            self.background.submit({}, lambda: self._declare_and_page(group_id, new, decision.escalation_policy))
            return
        page_id = None
        if decision.escalation_policy:
            plan = plan_for_policy(decision.escalation_policy, self.policy)
            page_id = await self.pager.start(
                None,
                plan=plan,
                source=f"alert:{batch.source}",
                actor=bot_user,
                team_id=team_id,
                title=title[:200],
                severity=decision.severity,
                dedup_key=fit_key(f"{batch.source}:{generation}:{batch.group_key}", 255),
            )
            async with self.uow() as uow:
                await uow.alerts.link(group_id, page_id=page_id)
                await uow.commit()
        # The notice waits its turn in the channel's queue: the webhook is answered without waiting for it.
        self.background.submit(
            {}, lambda: self._notice(decision.channel, title, decision.severity, decision.escalation_policy, lead.url)
        )

    async def _declare_and_page(self, group_id: int, new: NewIncident, escalation: str | None) -> None:
        outcome = await self.incidents.declare(new, reply_to=None, page_service=False)
        incident: Incident = outcome.incident
        page_id = None
        if escalation:
            page_id = await self.pager.start(
                incident,
                plan=plan_for_policy(escalation, self.policy),
                source=fit_key(f"alert:{new.declare_key}", 200),
                actor=new.declared_by,
                team_id=new.team_id,
            )
        async with self.uow() as uow:
            await uow.alerts.link(group_id, page_id=page_id, incident_id=incident.id)
            await uow.incidents.record(
                incident.id,
                TimelineEntry(TimelineKind.ALERT, self.clock(), None, f"Declared from an alert: {new.title}"),
            )
            await uow.commit()

    async def _notice(
        self, channel: str | None, title: str, severity: str, escalation: str | None, url: str | None
    ) -> None:
        if channel is None:
            log.warning("alert %r had nowhere to be posted (no broadcast channel or route channel)", title)
            return
        action = f"paging `{escape(escalation)}`" if escalation else "not routed to any escalation policy"
        link = ""
        if url:
            link = (
                f" · {mrkdwn_link(url, 'source')}"
                if safe_url(url)
                else " · (its source URL was not a plain http(s) link)"
            )
        line = f":bell: *Alert firing:* {escape(title)} · *{severity}* · {action}{link}"
        try:
            await self.slack.post(channel, line, [blocks.section(line)])
        except Exception as exc:  # the page goes on even when the notice cannot be posted
            log.warning("alert notice to %s failed: %s", channel, slack_error(exc))
