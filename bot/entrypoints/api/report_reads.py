"""GET routes beyond one incident: follow-ups (of an incident, or all), the stats, who is on call, the
event log, and the OpenAPI document itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.domain.api_tokens import Scope
from bot.entrypoints.api import cursors
from bot.entrypoints.api.inputs import EventParams, FollowUpFilters, IncidentFollowUpParams, OnCallParams, StatsParams
from bot.entrypoints.api.registry import ApiDeps, Call, Reply, Routes
from bot.entrypoints.api.report_outputs import (
    EventItem,
    EventList,
    FollowUpItem,
    FollowUpList,
    OnCallItem,
    OnCallList,
    Stats,
)

routes = Routes()


@routes.get("/api/v1/incidents/{ref}/follow-ups", params=IncidentFollowUpParams, response=FollowUpList)
async def get_incident_follow_ups(api: ApiDeps, call: Call) -> Reply:
    """An incident's follow-ups, open and done, oldest first."""
    asked = call.params_as(IncidentFollowUpParams)
    return await _follow_ups(api, call, asked, ref=asked.ref)


@routes.get("/api/v1/follow-ups", params=FollowUpFilters, response=FollowUpList, tag="follow-ups")
async def list_follow_ups(api: ApiDeps, call: Call) -> Reply:
    """Follow-ups of every incident, filtered by state, owner or being overdue."""
    return await _follow_ups(api, call, call.params_as(FollowUpFilters), ref=None)


@routes.get("/api/v1/stats", params=StatsParams, response=Stats, tag="reports")
async def get_stats(api: ApiDeps, call: Call) -> Reply:
    """The figures `/incident stats` shows: MTTD, MTTA and MTTR per severity, frequency, repeats, detection."""
    stats = await api.reads.stats(call.who(), days=call.params_as(StatsParams).days)
    return Reply(Stats.of(stats))


@routes.get("/api/v1/oncall", params=OnCallParams, response=OnCallList, errors=(404,), tag="reports")
async def get_on_call(api: ApiDeps, call: Call) -> Reply:
    """Who is on call, per schedule, now or at a given time, with the next handoff."""
    asked = call.params_as(OnCallParams)
    at = asked.at or api.reads.clock()
    rows = api.reads.on_call(at=at, schedule=asked.schedule)
    return Reply(OnCallList(at=at, items=[OnCallItem.of(row) for row in rows]))


@routes.get("/api/v1/events", params=EventParams, response=EventList, scope=Scope.EVENTS_READ, tag="events")
async def list_events(api: ApiDeps, call: Call) -> Reply:
    """The event log after a cursor, oldest first: a pull alternative to outgoing webhooks."""
    asked = call.params_as(EventParams)
    after = cursors.event_key(asked.after) if asked.after else 0
    kinds = [asked.kind.value] if asked.kind else []
    found = await api.reads.events(call.who(), after=after, limit=asked.limit, kinds=kinds)
    last = found.items[-1][0] if found.items else after
    items = [EventItem.of(event) for _, event in found.items]
    return Reply(EventList(items=items, next_cursor=cursors.event_cursor(last)))


def openapi_route(document: Callable[[], dict[str, Any]]) -> Routes:
    """The route serving the OpenAPI document that `document()` gives (no token needed)."""
    served = Routes()

    @served.get("/api/v1/openapi.json", scope=None, tag="meta")
    async def get_openapi(api: ApiDeps, call: Call) -> Reply:
        """This API's OpenAPI 3.1 document."""
        return Reply(json.dumps(document()))

    return served


async def _follow_ups(api: ApiDeps, call: Call, asked: FollowUpFilters, *, ref: str | None) -> Reply:
    after = cursors.id_key(asked.cursor) if asked.cursor else None
    found = await api.reads.follow_ups(
        call.who(), ref=ref, state=asked.state, owner=asked.owner, overdue=asked.overdue, after=after, limit=asked.limit
    )
    today = api.reads.today()
    cursor = cursors.id_cursor(found.items[-1].id) if found.more and found.items else None
    return Reply(FollowUpList(items=[FollowUpItem.of(f, today=today) for f in found.items], next_cursor=cursor))
