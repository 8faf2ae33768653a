"""What a signed-in person may read, built on the API's reads: everything of the workspace is read, then
each private incident is kept only when the person is a member of its channel (Visibility: Slack says,
failing closed). A private incident anyone else asks for is "not found" exactly as a number nobody has,
and it is left out of every list, search and count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from bot.domain.api_tokens import Principal, Scope
from bot.domain.errors import NotFoundError
from bot.domain.escalation import Page
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.runbooks import RunbookLibrary, Step
from bot.domain.stats import IncidentStats
from bot.usecases.api_ports import Caller
from bot.usecases.api_reads import ApiReads, IncidentFilters, IncidentView, OnCall
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.visibility import Visibility

T = TypeVar("T")
K = TypeVar("K")
TIMELINE_SHOWN = 2000  # an incident page's timeline; the API pages through longer ones
FOLLOW_UPS_SHOWN = 500
BATCH = 100  # incidents read at a time while hidden private ones are skipped
MAX_BATCHES = 50  # then the page ends early, its "next" link continuing from where the reading stopped


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is reading: a signed-in Slack user of the workspace."""

    user_id: str
    team_id: str


@dataclass(frozen=True, slots=True)
class Chunk(Generic[T, K]):
    """Some items of a longer list, and the key the next chunk starts after (None: there is no more)."""

    items: list[T]
    after: K | None


@dataclass(frozen=True, slots=True)
class RunbookProgress:
    """A runbook posted in an incident's channel, and which of its steps are ticked."""

    name: str
    title: str
    steps: list[tuple[Step, bool]]

    @property
    def done(self) -> int:
        """How many steps are ticked."""
        return sum(1 for _, ticked in self.steps if ticked)


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    """Everything one incident's page shows."""

    view: IncidentView
    timeline: list[TimelineEntry]
    timeline_cut: bool  # longer than TIMELINE_SHOWN
    follow_ups: list[FollowUp]
    pages: list[Page]
    runbooks: list[RunbookProgress]

    @property
    def updates(self) -> list[TimelineEntry]:
        """The status updates, newest first."""
        return [e for e in reversed(self.timeline) if e.kind is TimelineKind.UPDATE]

    @property
    def pinned(self) -> list[TimelineEntry]:
        """The Slack messages pinned or reacted into the timeline."""
        return [e for e in self.timeline if e.kind is TimelineKind.MESSAGE]


@dataclass
class WebReads:
    """The signed-in pages' reads."""

    api: ApiReads
    visibility: Visibility
    runbooks: RunbookLibrary
    uow: UnitOfWorkFactory

    async def incident(self, viewer: Viewer, ref: str) -> Incident:
        """The incident `ref` names, if the viewer may see it; NotFoundError (as for an unknown one) else."""
        incident = await self.api.find(_insider(viewer), ref)
        if not await self.visibility.may_see(incident, viewer.user_id):
            raise NotFoundError(f"There is no incident {ref[:40]!r}.")
        return incident

    async def detail(self, viewer: Viewer, ref: str) -> IncidentDetail:
        """An incident with its histories, timeline, follow-ups, pages and runbook progress."""
        incident = await self.incident(viewer, ref)
        caller, key = _insider(viewer), str(incident.id)
        view = await self.api.incident(caller, key)
        timeline = await self.api.timeline(caller, key, after=None, limit=TIMELINE_SHOWN)
        follow_ups = await self.api.follow_ups(caller, ref=key, limit=FOLLOW_UPS_SHOWN)
        pages = await self.api.pages(caller, key)
        return IncidentDetail(
            view,
            [entry for _, entry in timeline.items],
            timeline.more,
            follow_ups.items,
            pages,
            await self._runbooks(incident.id),
        )

    async def postmortem(self, viewer: Viewer, ref: str) -> tuple[Incident, str]:
        """An incident and its postmortem draft (Markdown)."""
        incident = await self.incident(viewer, ref)
        return incident, await self.api.postmortem(_insider(viewer), str(incident.id))

    async def incidents(
        self, viewer: Viewer, filters: IncidentFilters, *, after: tuple[datetime, int] | None, limit: int
    ) -> Chunk[Incident, tuple[datetime, int]]:
        """A page of the incidents the viewer may see, newest first, after the key `after`."""
        shown: list[Incident] = []
        key = after
        for _ in range(MAX_BATCHES):
            batch = await self.api.incidents(_insider(viewer), filters, sort="-declared_at", after=key, limit=BATCH)
            hidden = await self.visibility.hidden_from(viewer.user_id, [i for i in batch.items if i.private])
            for incident in batch.items:
                if incident.id in hidden:
                    key = (incident.declared_at, incident.id)
                    continue
                if len(shown) == limit:  # one more than the page: there is a next page
                    return Chunk(shown, (shown[-1].declared_at, shown[-1].id))
                shown.append(incident)
                key = (incident.declared_at, incident.id)
            if not batch.more:
                return Chunk(shown, None)
        return Chunk(shown, key)

    async def follow_ups(
        self,
        viewer: Viewer,
        *,
        state: str | None,
        owner: str | None,
        overdue: bool | None,
        after: int | None,
        limit: int,
    ) -> Chunk[FollowUp, int]:
        """A page of follow-ups of the incidents the viewer may see, oldest first, after the id `after`."""
        shown: list[FollowUp] = []
        key = after
        for _ in range(MAX_BATCHES):
            batch = await self.api.follow_ups(
                _insider(viewer), state=state, owner=owner, overdue=overdue, after=key, limit=BATCH
            )
            hidden = await self._hidden_incidents(viewer, {f.incident_id for f in batch.items})
            for item in batch.items:
                if item.incident_id in hidden:
                    key = item.id
                    continue
                if len(shown) == limit:
                    return Chunk(shown, shown[-1].id)
                shown.append(item)
                key = item.id
            if not batch.more:
                return Chunk(shown, None)
        return Chunk(shown, key)

    async def stats(self, viewer: Viewer, *, days: int | None) -> IncidentStats:
        """The figures of `/incident stats`, of public incidents only: counting private ones for those who
        may see some would tell everyone else, by the difference, that they exist."""
        return await self.api.stats(_public(viewer), days=days)

    def today(self) -> date:
        """Today in the policy's time zone (follow-ups fall due on days there)."""
        return self.api.today()

    def on_call(self) -> list[OnCall]:
        """Who each schedule has on call now, and the next handoff."""
        return self.api.on_call(at=None, schedule=None)

    async def _hidden_incidents(self, viewer: Viewer, incident_ids: set[int]) -> frozenset[int]:
        async with self.uow(read_only=True) as uow:
            incidents = [i for i in [await uow.incidents.get(n) for n in sorted(incident_ids)] if i is not None]
        return await self.visibility.hidden_from(viewer.user_id, [i for i in incidents if i.private])

    async def _runbooks(self, incident_id: int) -> list[RunbookProgress]:
        async with self.uow(read_only=True) as uow:
            posted = await uow.runbooks.posted(incident_id)
            ticked = {name: await uow.runbooks.ticked(incident_id, name) for name in posted}
        known = self.runbooks.all()
        return [
            RunbookProgress(name, known[name].meta.title, [(s, s.id in ticked[name]) for s in known[name].steps])
            for name in sorted(posted)
            if name in known
        ]


def _insider(viewer: Viewer) -> Caller:
    """Reads everything of the workspace; what the viewer may not see is taken out afterwards."""
    scopes = frozenset({Scope.INCIDENTS_READ, Scope.PRIVATE_READ})
    return Caller(Principal(f"web-{viewer.user_id}", scopes), viewer.team_id)


def _public(viewer: Viewer) -> Caller:
    """Reads public incidents only."""
    return Caller(Principal(f"web-{viewer.user_id}", frozenset({Scope.INCIDENTS_READ})), viewer.team_id)
