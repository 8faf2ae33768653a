"""What the REST API reads: incidents (filtered, sorted, a page at a time), one incident with its role and
severity history, its timeline, updates, follow-ups, pages and postmortem draft, follow-ups across
incidents, the stats, who is on call, and the event log.

A private incident exists only for callers with `private:read`: for anyone else every read leaves it
out, and naming it is answered exactly as a number nobody has (NotFoundError)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import NotFoundError
from bot.domain.escalation import Page
from bot.domain.events import DomainEvent, EventKind, IncidentDeclared, IncidentSeverityChanged
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, RoleSpan, TimelineEntry, TimelineKind
from bot.domain.oncall import next_handoff, on_call
from bot.domain.policy import Policy
from bot.domain.stats import IncidentStats
from bot.usecases.api_ports import Caller, IncidentQueryStore, Listing
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory
from bot.usecases.postmortems import PostmortemService

_REF = re.compile(r"^(inc-)?([0-9]{1,9})$", re.IGNORECASE)
MAX_ID = 2**31 - 1  # the database's integer: a larger id names nothing


@dataclass(frozen=True, slots=True)
class IncidentFilters:
    """What an incident list is narrowed to (every one given must hold); `status` may be `open`."""

    status: str | None = None
    severity: str | None = None
    service: str | None = None
    private: bool | None = None
    declared_after: datetime | None = None
    declared_before: datetime | None = None
    resolved_after: datetime | None = None
    resolved_before: datetime | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class SeverityChange:
    """The incident was at `severity` from `at` (declared at it, when `previous` is None), by `actor`."""

    severity: str
    previous: str | None
    at: datetime
    actor: str | None


@dataclass(frozen=True, slots=True)
class IncidentView:
    """One incident with everyone who held a role and every severity it had."""

    incident: Incident
    role_history: list[RoleSpan]
    severity_history: list[SeverityChange]


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who a schedule has on call at a moment, and the next handoff after it (when, to whom)."""

    schedule: str
    user: str | None
    next_handoff_at: datetime | None
    next_user: str | None


def parse_ref(text: str) -> tuple[str, int]:
    """How a path names an incident: `INC-42` by its number (("number", 42)), `42` by its id (("id", 42));
    NotFoundError for anything else, as for a number nobody has."""
    match = _REF.match(text.strip())
    if match is None or int(match.group(2)) > MAX_ID:
        raise NotFoundError(f"There is no incident {text[:40]!r}.")
    return ("number" if match.group(1) else "id"), int(match.group(2))


@dataclass
class ApiReads:
    """The API's read use cases."""

    uow: UnitOfWorkFactory
    queries: IncidentQueryStore
    policy: Policy
    clock: Clock
    postmortems: PostmortemService

    async def find(self, caller: Caller, ref: str) -> Incident:
        """The incident `ref` names in the caller's workspace, if the caller may see it; NotFoundError else."""
        async with self.uow(read_only=True) as uow:
            return await _visible(uow, caller, ref)

    async def incidents(
        self,
        caller: Caller,
        filters: IncidentFilters,
        *,
        sort: str,
        after: tuple[datetime | int, int] | None,
        limit: int,
    ) -> Listing[Incident]:
        """A page of the incidents the caller may see that match `filters`, in `sort` order, after a key."""
        found = await self.queries.incidents(
            team_id=caller.team_id,
            include_private=caller.sees_private,
            sort=sort,
            after=after,
            limit=limit + 1,
            status=filters.status,
            severity=filters.severity,
            service=filters.service,
            private=filters.private,
            declared_after=filters.declared_after,
            declared_before=filters.declared_before,
            resolved_after=filters.resolved_after,
            resolved_before=filters.resolved_before,
            text=filters.text,
        )
        return Listing(found[:limit], more=len(found) > limit)

    async def incident(self, caller: Caller, ref: str) -> IncidentView:
        """One incident with its role history and severity history."""
        async with self.uow(read_only=True) as uow:
            incident = await _visible(uow, caller, ref)
            roles = await uow.incidents.role_history(incident.id)
        kinds = [EventKind.INCIDENT_DECLARED.value, EventKind.INCIDENT_SEVERITY_CHANGED.value]
        events = await self.queries.events(
            after=0, limit=10_000, include_private=True, kinds=kinds, incident_id=incident.id
        )
        return IncidentView(incident, roles, [change for _, event in events if (change := _severity(event))])

    async def timeline(
        self,
        caller: Caller,
        ref: str,
        *,
        after: tuple[datetime, int] | None,
        limit: int,
        kinds: Collection[TimelineKind] = (),
    ) -> Listing[tuple[int, TimelineEntry]]:
        """A page of an incident's timeline (of `kinds`, if given; its updates are TimelineKind.UPDATE)."""
        incident = await self.find(caller, ref)
        found = await self.queries.timeline(incident.id, kinds=kinds, after=after, limit=limit + 1)
        return Listing(found[:limit], more=len(found) > limit)

    async def follow_ups(
        self,
        caller: Caller,
        *,
        ref: str | None = None,
        state: str | None = None,
        owner: str | None = None,
        overdue: bool | None = None,
        after: int | None = None,
        limit: int,
    ) -> Listing[FollowUp]:
        """A page of follow-ups: of one incident (`ref`) or of every incident the caller may see; `state`
        open or done, of `owner`, overdue (open and past due today, in the policy's time zone) or not."""
        incident = await self.find(caller, ref) if ref is not None else None
        found = await self.queries.follow_ups(
            team_id=caller.team_id,
            include_private=caller.sees_private,
            incident_id=incident.id if incident else None,
            state=state,
            owner=owner,
            overdue_on=self.today() if overdue else None,
            after=after,
            limit=limit + 1,
        )
        if overdue is False:
            today = self.today()
            found = [f for f in found if not f.is_overdue(today)]
        return Listing(found[:limit], more=len(found) > limit)

    async def pages(self, caller: Caller, ref: str) -> list[Page]:
        """The pages an incident started, oldest first."""
        async with self.uow(read_only=True) as uow:
            return await uow.pages.for_incident((await _visible(uow, caller, ref)).id)

    async def postmortem(self, caller: Caller, ref: str) -> str:
        """The postmortem draft (Markdown), as `tocsin postmortem` prints it."""
        incident = await self.find(caller, ref)
        return await self.postmortems.draft(incident.id)

    async def stats(self, caller: Caller, *, days: int | None) -> IncidentStats:
        """The figures `/incident stats` shows for the last `days` days (None: all time), of the incidents
        the caller may see."""
        now = self.clock()
        since = now - timedelta(days=days) if days is not None else None
        return await self.queries.stats(
            caller.team_id, since=since, now=now, today=self.today(), include_private=caller.sees_private
        )

    def on_call(self, *, at: datetime | None, schedule: str | None) -> list[OnCall]:
        """Who each schedule (or the one named) has on call at `at` (None: now), with the next handoff."""
        when = at or self.clock()
        if schedule is not None and schedule not in self.policy.schedules:
            raise NotFoundError(f"There is no schedule {schedule[:60]!r}.")
        names = [schedule] if schedule is not None else list(self.policy.schedules)
        found: list[OnCall] = []
        for name in names:
            plan = self.policy.schedules[name]
            handoff = next_handoff(plan, when)
            found.append(
                OnCall(name, on_call(plan, when), handoff.at if handoff else None, handoff.user if handoff else None)
            )
        return found

    async def events(
        self, caller: Caller, *, after: int, limit: int, kinds: Collection[str] = ()
    ) -> Listing[tuple[int, DomainEvent]]:
        """Events after position `after` (private incidents' only with `private:read`), oldest first."""
        found = await self.queries.events(
            after=after, limit=limit + 1, include_private=caller.sees_private, kinds=kinds
        )
        return Listing(found[:limit], more=len(found) > limit)

    def today(self) -> date:
        """Today in the policy's time zone (due dates are days there)."""
        return self.clock().astimezone(ZoneInfo(self.policy.timezone)).date()


async def _visible(uow: UnitOfWork, caller: Caller, ref: str) -> Incident:
    """The incident `ref` names in the caller's workspace, if the caller may see it; NotFoundError else
    (a private one the caller may not see is answered as a number nobody has)."""
    how, value = parse_ref(ref)
    if how == "number":
        incident = await uow.incidents.by_number(caller.team_id, value)
    else:
        incident = await uow.incidents.get(value)
    if incident is None or incident.team_id != caller.team_id or (incident.private and not caller.sees_private):
        raise NotFoundError(f"There is no incident {ref[:40]!r}.")
    return incident


def _severity(event: DomainEvent) -> SeverityChange | None:
    data = event.data
    if isinstance(data, IncidentDeclared):
        return SeverityChange(data.severity, None, event.occurred_at, event.actor)
    if isinstance(data, IncidentSeverityChanged):
        return SeverityChange(data.severity, data.previous, event.occurred_at, event.actor)
    return None
