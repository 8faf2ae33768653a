"""GET routes of incidents: the list, one incident, its timeline, updates, pages and postmortem draft."""

from __future__ import annotations

from bot.domain.incidents import TimelineKind
from bot.entrypoints.api import cursors
from bot.entrypoints.api.inputs import IncidentListParams, IncidentRef, TimelineParams
from bot.entrypoints.api.outputs import IncidentDetail, IncidentItem, IncidentList, TimelineItem, TimelinePage
from bot.entrypoints.api.registry import MARKDOWN, ApiDeps, Call, Reply, Routes
from bot.entrypoints.api.report_outputs import PageList
from bot.usecases.api_reads import IncidentFilters

routes = Routes()


@routes.get("/api/v1/incidents", params=IncidentListParams, response=IncidentList)
async def list_incidents(api: ApiDeps, call: Call) -> Reply:
    """List incidents, filtered and sorted, a page at a time."""
    asked = call.params_as(IncidentListParams)
    filters = IncidentFilters(
        status=asked.status,
        severity=asked.severity,
        service=asked.service,
        private=asked.private,
        declared_after=asked.declared_after,
        declared_before=asked.declared_before,
        resolved_after=asked.resolved_after,
        resolved_before=asked.resolved_before,
        text=asked.q,
    )
    after = cursors.incident_key(asked.cursor, asked.sort) if asked.cursor else None
    found = await api.reads.incidents(call.who(), filters, sort=asked.sort, after=after, limit=asked.limit)
    cursor = None
    if found.more and found.items:
        last = found.items[-1]
        key = last.number if asked.sort.removeprefix("-") == "number" else last.declared_at
        cursor = cursors.incident_cursor(asked.sort, key, last.id)
    return Reply(IncidentList(items=[IncidentItem.of(i) for i in found.items], next_cursor=cursor))


@routes.get("/api/v1/incidents/{ref}", params=IncidentRef, response=IncidentDetail)
async def get_incident(api: ApiDeps, call: Call) -> Reply:
    """One incident: roles and their history, severity history, status, times, channel, links."""
    view = await api.reads.incident(call.who(), call.params_as(IncidentRef).ref)
    return Reply(IncidentDetail.of_view(view))


@routes.get("/api/v1/incidents/{ref}/timeline", params=TimelineParams, response=TimelinePage)
async def get_timeline(api: ApiDeps, call: Call) -> Reply:
    """An incident's timeline, oldest first, a page at a time."""
    return await _timeline(api, call, kinds=())


@routes.get("/api/v1/incidents/{ref}/updates", params=TimelineParams, response=TimelinePage)
async def get_updates(api: ApiDeps, call: Call) -> Reply:
    """An incident's status updates, oldest first, a page at a time."""
    return await _timeline(api, call, kinds=(TimelineKind.UPDATE,))


@routes.get("/api/v1/incidents/{ref}/pages", params=IncidentRef, response=PageList)
async def get_pages(api: ApiDeps, call: Call) -> Reply:
    """The pages an incident started, and where each stands."""
    pages = await api.reads.pages(call.who(), call.params_as(IncidentRef).ref)
    return Reply(PageList.of(pages))


@routes.get("/api/v1/incidents/{ref}/postmortem", params=IncidentRef, media_type=MARKDOWN)
async def get_postmortem(api: ApiDeps, call: Call) -> Reply:
    """The incident's postmortem draft (Markdown), as `tocsin postmortem` prints it."""
    return Reply(await api.reads.postmortem(call.who(), call.params_as(IncidentRef).ref))


async def _timeline(api: ApiDeps, call: Call, *, kinds: tuple[TimelineKind, ...]) -> Reply:
    asked = call.params_as(TimelineParams)
    after = cursors.timeline_key(asked.cursor) if asked.cursor else None
    found = await api.reads.timeline(call.who(), asked.ref, after=after, limit=asked.limit, kinds=kinds)
    cursor = None
    if found.more and found.items:
        last_id, last = found.items[-1]
        cursor = cursors.timeline_cursor(last.occurred_at, last_id)
    return Reply(TimelinePage(items=[TimelineItem.of(i, e) for i, e in found.items], next_cursor=cursor))
