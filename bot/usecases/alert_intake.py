"""Alerts in: store and deduplicate them, page the routed escalation policy, declare when the route says
so, and cancel pages nobody acknowledged when the alerts resolve.

One group (Alertmanager/Grafana groupKey, or a generic dedup_key) gets one page and at most one
incident, decided by whichever request created the group row; repeats only update the stored alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.alerts import Alert, AlertBatch, decide, most_severe
from bot.domain.escalation import NewPage, Plan, plan_for_policy
from bot.domain.events import AlertFiring, AlertResolved, DomainEvent, Subject, new_event
from bot.domain.incidents import DetectedVia, Incident, NewIncident, TimelineEntry, TimelineKind
from bot.domain.keys import fit_key
from bot.domain.notice_digests import AlertNotice
from bot.domain.policy import Policy
from bot.runtime.logs import event
from bot.usecases.alert_notices import AlertNotices
from bot.usecases.declare import IncidentService
from bot.usecases.hooks import Silences
from bot.usecases.message_ports import Messages
from bot.usecases.paging import Pager
from bot.usecases.ports import BackgroundWork, Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)
# A repeat delivery of a big group (Alertmanager sends the whole group again every repeat_interval) puts a
# few lines on the incident's timeline, not one per alert.
TIMELINE_ALERTS = 5


class _Route:
    """What a new group's firing alerts call for: the policy's decision for the most severe of them."""

    def __init__(self, intake: AlertIntake, batch: AlertBatch, firing: list[Alert]) -> None:
        self.batch = batch
        self.lead = most_severe(firing, intake.policy)
        self.decision = decide(self.lead, intake.policy)
        policy_name = self.decision.escalation_policy
        self.plan = plan_for_policy(policy_name, intake.policy) if policy_name else None
        more = len(batch.alerts) - 1 + batch.truncated  # the sender's max_alerts left some out
        self.title = self.lead.title + (f" (+{more} more)" if more > 0 else "")
        self._workspace = intake.workspace

    def describe(self) -> str:
        decision = self.decision
        action = (
            f"declare at {decision.severity}" if decision.declare else f"page {decision.escalation_policy or 'nobody'}"
        )
        return f"{decision.service or 'no service'}, {action}"

    def new_page(self, plan: Plan, generation: int) -> NewPage:
        """The page this group starts (its `generation`: each occurrence pages anew), sent by Tocsin."""
        team_id, bot_user = self._workspace()
        return NewPage(
            plan=plan,
            source=f"alert:{self.batch.source}",
            actor=bot_user,
            team_id=team_id,
            title=self.title[:200],
            severity=self.decision.severity,
            dedup_key=fit_key(f"{self.batch.source}:{generation}:{self.batch.group_key}", 255),
        )


@dataclass
class AlertIntake:
    """Handles one webhook delivery."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    pager: Pager
    incidents: IncidentService
    background: BackgroundWork  # work the webhook is answered without waiting for
    workspace: Callable[[], tuple[str, str]]  # (team id, bot user id) from auth.test
    silences: Silences | None = None  # maintenance windows
    notices: AlertNotices = field(init=False)

    def __post_init__(self) -> None:
        """A new group that does not declare is told in its route's channel, gathered there in a storm."""
        self.notices = AlertNotices(self.slack, self.messages, self.policy, self.clock)

    async def receive(self, batch: AlertBatch) -> dict[str, object]:
        """Store the batch; start, update or stand down what it calls for. Returns a short summary.

        A new group's page is stored in the same transaction as its alerts, so a webhook costs one
        transaction; Slack hears of it afterwards (the timers send the page, the notice is queued)."""
        if batch.ignored is not None:
            return {"group": None, "action": "ignored", "reason": batch.ignored}
        now = self.clock()
        firing_now = [a for a in batch.alerts if a.firing]
        route = _Route(self, batch, firing_now) if firing_now else None
        silenced = await self._silenced(route, now)
        page_id: int | None = None
        page: NewPage | None = None
        async with self.uow() as uow:
            group, created = await uow.alerts.group(batch.source, batch.group_key, now=now)
            assert group.id is not None
            firing_before = 0 if created else await uow.alerts.firing_in(group.id)
            await uow.alerts.record(group.id, batch.source, batch.alerts, now=now)
            # A new group has nothing stored from before this batch.
            firing = len(firing_now) if created else await uow.alerts.firing_in(group.id)
            generation = group.generation
            # Firing again after every alert resolved is a new occurrence: a new page (and incident).
            refired = not created and firing_before == 0 and firing > 0
            if refired:
                generation = await uow.alerts.next_generation(group.id)
            starting = (created or refired) and route is not None
            paging = route is not None and route.plan is not None and not route.decision.declare and silenced is None
            if starting and route is not None and route.plan is not None and paging:
                page = route.new_page(route.plan, generation)
                page_id = await self.pager.store(uow, None, page)
                await uow.alerts.link(group.id, page_id=page_id)
            incident_id = None if created or refired else group.incident_id  # a new occurrence is not the old one's
            await uow.events.append(*_alert_events(group.id, incident_id, batch, route, firing, firing_before, now))
            await uow.commit()
        if starting and route is not None:
            event(
                log,
                "alert group %s (%s): %d firing, new; routed: %s%s",
                group.id,
                batch.source,
                len(firing_now),
                route.describe(),
                f"; paging silenced by {silenced}" if silenced and not route.decision.declare else "",
                source=batch.source,
            )
            if page_id is not None and page is not None:
                self.pager.started(page_id, None, page)
            self._start(group.id, batch, route, generation, silenced)
            if silenced is not None and not route.decision.declare:
                return {"group": group.id, "action": "silenced", "silenced_by": silenced}
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
            notes = _timeline_notes(batch)
            async with self.uow() as uow:
                await uow.incidents.record(
                    group.incident_id, *(TimelineEntry(TimelineKind.ALERT, now, None, n) for n in notes)
                )
                await uow.commit()
        if firing == 0 and group.page_id:
            await self.pager.cancel(group.page_id, reason="its alerts resolved")
            return {"group": group.id, "action": "resolved"}
        return {"group": group.id, "action": "updated"}

    async def _silenced(self, route: _Route | None, now: datetime) -> str | None:
        """The maintenance window silencing a new group's page, if any (a declare's page is asked later)."""
        if route is None or self.silences is None or route.decision.declare:
            return None
        return await self.silences.silencing(route.decision.service, route.decision.severity, now=now)

    def _start(self, group_id: int, batch: AlertBatch, route: _Route, generation: int, silenced: str | None) -> None:
        decision = route.decision
        if decision.declare:
            team_id, bot_user = self.workspace()
            starts = [a.starts_at for a in batch.alerts if a.starts_at]
            new = NewIncident(
                team_id=team_id,
                title=route.title[:120],
                severity=decision.severity,
                declared_by=bot_user,
                declare_key=fit_key(f"alert:{batch.source}:{generation}:{batch.group_key}", 255),
                description=self.messages.escape(route.lead.description)[:2000],
                detected_via=DetectedVia.MONITORING,
                started_at=min(starts) if starts else None,
                detected_at=min(starts) if starts else None,
                service=decision.service,
            )
            # Declaring talks to Slack for a while: answer the webhook now, finish in the background.
            self.background.submit({}, lambda: self._declare_and_page(group_id, new, decision.escalation_policy))
            return
        # The notice waits its turn in the channel's queue (or joins its storm's digest): the webhook is
        # answered without waiting for it.
        title, paging = route.title, decision.escalation_policy
        if silenced is not None:  # stored and shown, nobody paged
            paging = None
        notice = AlertNotice(title, decision.severity, decision.service, paging, route.lead.url, silenced=silenced)
        self.background.submit({}, lambda: self.notices.send(decision.channel, notice))

    async def _declare_and_page(self, group_id: int, new: NewIncident, escalation: str | None) -> None:
        outcome = await self.incidents.declare(new, reply_to=None, page_service=False)
        incident: Incident = outcome.incident
        page_id = None
        silenced = None
        if escalation and self.silences is not None:
            silenced = await self.silences.silencing(new.service, new.severity, now=self.clock(), declared=True)
        if escalation and silenced is None:
            plan = plan_for_policy(escalation, self.policy)
            source = fit_key(f"alert:{new.declare_key}", 200)
            page_id = await self.pager.start(incident, NewPage(plan, source, new.declared_by, new.team_id))
        async with self.uow() as uow:
            await uow.alerts.link(group_id, page_id=page_id, incident_id=incident.id)
            await uow.incidents.record(
                incident.id,
                TimelineEntry(TimelineKind.ALERT, self.clock(), None, f"Declared from an alert: {new.title}"),
            )
            if silenced is not None:
                note = f"The alert's escalation policy was not paged: silenced by {silenced}"
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.PAGE, self.clock(), None, note))
            await uow.commit()


def _alert_events(
    group_id: int,
    incident_id: int | None,
    batch: AlertBatch,
    route: _Route | None,
    firing: int,
    firing_before: int,
    now: datetime,
) -> list[DomainEvent]:
    """What a delivery records: its group firing (new, or again after it had resolved), or resolved."""
    subject = Subject(incident_id, alert_group_id=group_id)
    if firing > 0 and firing_before == 0 and route is not None:
        data: AlertFiring | AlertResolved = AlertFiring(
            group_id=group_id, source=batch.source, title=route.title[:200], firing=firing
        )
    elif firing == 0 and firing_before > 0:
        data = AlertResolved(group_id=group_id, source=batch.source)
    else:
        return []
    return [new_event(data, subject=subject, actor=None, at=now)]


def _timeline_notes(batch: AlertBatch) -> list[str]:
    """What a delivery puts on its incident's timeline: the first few alerts, then how many more."""
    notes = [f"Alert {'firing' if a.firing else 'resolved'}: {a.title}" for a in batch.alerts[:TIMELINE_ALERTS]]
    rest = batch.alerts[TIMELINE_ALERTS:]
    firing = sum(a.firing for a in rest)
    more = [f"{len(rest)} more alerts ({firing} firing, {len(rest) - firing} resolved)"] if rest else []
    if batch.truncated:
        more.append(f"{batch.truncated} left out by the sender's max_alerts")
    return notes + ([f"… and {', and '.join(more)}"] if more else [])
