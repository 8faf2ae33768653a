"""Starting a page: a service's on-call through its escalation policy, or one person. The page is stored
with its first step due now (with its timeline line and its PageStarted event, in the same transaction),
and the timers are woken to send that step. Part of paging (paging.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.domain.errors import UserError
from bot.domain.escalation import NewPage, plan_for_policy, plan_for_user
from bot.domain.events import PageStarted, Subject, about, new_event
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.runtime.logs import event
from bot.usecases.hooks import ScheduleSnapshots
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("bot.usecases.paging")


@dataclass
class PageStarts:
    """Starting pages: storing them due now and waking the timers."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    wake: Callable[[], None]  # asks the timers to tick now
    schedules: ScheduleSnapshots | None = None  # the schedules with the overrides made from Slack

    async def page_service(self, incident: Incident | None, *, service: str, actor: str, team_id: str) -> int:
        """Page a service's on-call through its escalation policy."""
        named = self.policy.services.get(service)
        if named is None:
            known = ", ".join(sorted(self.policy.services)) or "none are configured"
            raise UserError(f"There is no service called “{service}” ({known}).")
        if named.escalation_policy is None:
            raise UserError(f"The {service} service has no escalation_policy to page.")
        plan = plan_for_policy(named.escalation_policy, self.policy)
        return await self.start(incident, NewPage(plan, f"service:{service}", actor, team_id))

    async def page_user(self, incident: Incident | None, *, user_id: str, actor: str, team_id: str) -> int:
        """Page one person."""
        return await self.start(incident, NewPage(plan_for_user(user_id), f"user:{user_id}", actor, team_id))

    async def start(self, incident: Incident | None, page: NewPage) -> int:
        """Store a page (its first step due now) and wake the timers."""
        async with self.uow() as uow:
            page_id = await self.store(uow, incident, page)
            await uow.commit()
        self.started(page_id, incident, page)
        return page_id

    async def store(self, uow: UnitOfWork, incident: Incident | None, page: NewPage) -> int:
        """Store a page in the caller's unit of work (call `started` once it commits)."""
        now = self.clock()
        if self.schedules is not None and page.plan.schedules:  # the page keeps them as they are now
            page = replace(page, plan=await self.schedules.snapshot(uow, page.plan))
        page_id = await uow.pages.start(
            team_id=page.team_id,
            incident_id=incident.id if incident else None,
            title=page.title or (page_title(incident) if incident else page.source),
            severity=page.severity or (incident.severity if incident else self.policy.default_severity),
            source=page.source,
            plan=page.plan,
            created_by=page.actor,
            now=now,
            dedup_key=page.dedup_key,
        )
        if incident:
            note = f"Page started: {page.source} ({page.plan.name})"
            await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.PAGE, now, page.actor, note))
        started = PageStarted(
            page_id=page_id,
            title=page.title or (page_title(incident) if incident else page.source),
            severity=page.severity or (incident.severity if incident else self.policy.default_severity),
            source=page.source,
            escalation_policy=page.plan.name,
        )
        subject = about(incident, page_id=page_id) if incident else Subject(page_id=page_id)
        await uow.events.append(new_event(started, subject=subject, actor=page.actor, at=now))
        return page_id

    def started(self, page_id: int, incident: Incident | None, page: NewPage) -> None:
        """A stored page committed: log it and let the timers send its first step now."""
        reference = incident.reference if incident else None
        event(
            log,
            "page %s started: %s (%s) by %s",
            page_id,
            page.source,
            page.plan.name,
            page.actor,
            incident=reference,
            actor=page.actor,
            team=page.team_id,
        )
        self.wake()


def page_title(incident: Incident) -> str:
    """What a page says of its incident: reference and title, or for a private incident only that it is
    one (the person paged is invited when they acknowledge)."""
    return "a private incident" if incident.private else f"{incident.reference}: {incident.title}"
