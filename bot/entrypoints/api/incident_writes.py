"""POST routes: declare (with an optional Idempotency-Key), post an update, add a note, change severity or
status, resolve, add a follow-up, mark a follow-up done. Each answers with what it changed."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from bot.domain.api_tokens import Scope
from bot.domain.incidents import Incident, Status
from bot.entrypoints.api.inputs import (
    DeclareBody,
    FollowUpBody,
    FollowUpRef,
    IncidentRef,
    NoteBody,
    ResolveBody,
    SeverityBody,
    StatusBody,
    UpdateBody,
)
from bot.entrypoints.api.outputs import IncidentDetail
from bot.entrypoints.api.registry import ApiDeps, Call, Handler, Header, Reply, Routes
from bot.entrypoints.api.report_outputs import FollowUpItem
from bot.usecases.api_writes import Declaration

routes = Routes()

IDEMPOTENCY_KEY = Header(
    name="Idempotency-Key",
    description="1-255 visible ASCII characters: the same key with the same body declares once",
    max_length=255,
    pattern=r"^[\x21-\x7e]{1,255}$",
)
WRITE = Scope.INCIDENTS_WRITE


def _on_an_incident(path: str, body: type[BaseModel]) -> Callable[[Handler], Handler]:
    """A change to one incident: its body, answered with the incident as it stands after it."""
    return routes.post(path, params=IncidentRef, body=body, response=IncidentDetail, scope=WRITE, errors=(409,))


@routes.post(
    "/api/v1/incidents",
    body=DeclareBody,
    response=IncidentDetail,
    scope=WRITE,
    status=201,
    also=(200,),
    errors=(409,),
    headers=(IDEMPOTENCY_KEY,),
    description=(
        "201 with the new incident; its set-up in Slack (channel, announcements, paging) follows, so its "
        "channel may still be null. With an Idempotency-Key already used with the same body: 200 and the "
        "same incident; with another body: 409."
    ),
)
async def declare_incident(api: ApiDeps, call: Call) -> Reply:
    """Declare an incident."""
    body = call.body_as(DeclareBody)
    asked = Declaration(
        title=body.title,
        severity=body.severity,
        description=body.description,
        service=body.service,
        private=body.private,
        detected_via=body.detected_via,
    )
    key = call.headers.get(IDEMPOTENCY_KEY.name)
    incident, created = await api.writes.declare(call.who(), asked, key=key)
    return await _detail(api, call, incident, status=201 if created else 200)


@_on_an_incident("/api/v1/incidents/{ref}/updates", UpdateBody)
async def post_update(api: ApiDeps, call: Call) -> Reply:
    """Post a status update (timeline, channel, stakeholders; the update reminder starts again)."""
    body = call.body_as(UpdateBody)
    changed = await api.writes.post_update(
        call.who(), _ref(call), text=body.text, doing=body.doing, next_at=body.next_update_at
    )
    return await _detail(api, call, changed)


@_on_an_incident("/api/v1/incidents/{ref}/notes", NoteBody)
async def add_note(api: ApiDeps, call: Call) -> Reply:
    """Add a note to the timeline."""
    changed = await api.writes.add_note(call.who(), _ref(call), text=call.body_as(NoteBody).text)
    return await _detail(api, call, changed)


@_on_an_incident("/api/v1/incidents/{ref}/severity", SeverityBody)
async def change_severity(api: ApiDeps, call: Call) -> Reply:
    """Change the severity, saying why (the policy's `severity` permission applies)."""
    body = call.body_as(SeverityBody)
    changed = await api.writes.change_severity(call.who(), _ref(call), severity=body.severity, reason=body.reason)
    return await _detail(api, call, changed)


@_on_an_incident("/api/v1/incidents/{ref}/status", StatusBody)
async def change_status(api: ApiDeps, call: Call) -> Reply:
    """Move the status to investigating, identified or monitoring (the policy's `status` permission applies)."""
    status = Status(call.body_as(StatusBody).status)
    return await _detail(api, call, await api.writes.change_status(call.who(), _ref(call), status=status))


@_on_an_incident("/api/v1/incidents/{ref}/resolve", ResolveBody)
async def resolve_incident(api: ApiDeps, call: Call) -> Reply:
    """Resolve the incident (the policy's `resolve` permission applies; resolving a resolved one is 409)."""
    body = call.body_as(ResolveBody)
    changed = await api.writes.resolve(
        call.who(), _ref(call), summary=body.summary, impact=body.impact, cause=body.cause
    )
    return await _detail(api, call, changed)


@routes.post(
    "/api/v1/incidents/{ref}/follow-ups",
    params=IncidentRef,
    body=FollowUpBody,
    response=FollowUpItem,
    scope=Scope.FOLLOW_UPS_WRITE,
    status=201,
    tag="follow-ups",
)
async def add_follow_up(api: ApiDeps, call: Call) -> Reply:
    """Add a follow-up (action item) to an incident."""
    body = call.body_as(FollowUpBody)
    item = await api.writes.add_follow_up(call.who(), _ref(call), text=body.text, owner=body.owner, due_on=body.due_on)
    return Reply(FollowUpItem.of(item, today=api.reads.today()), status=201)


@routes.post(
    "/api/v1/follow-ups/{follow_up_id}/done",
    params=FollowUpRef,
    response=FollowUpItem,
    scope=Scope.FOLLOW_UPS_WRITE,
    errors=(409,),
    tag="follow-ups",
)
async def mark_follow_up_done(api: ApiDeps, call: Call) -> Reply:
    """Mark a follow-up done (409 when it already is)."""
    item = await api.writes.follow_up_done(call.who(), call.params_as(FollowUpRef).follow_up_id)
    return Reply(FollowUpItem.of(item, today=api.reads.today()))


def _ref(call: Call) -> str:
    return call.params_as(IncidentRef).ref


async def _detail(api: ApiDeps, call: Call, incident: Incident, *, status: int = 200) -> Reply:
    view = await api.reads.incident(call.who(), str(incident.id))
    return Reply(IncidentDetail.of_view(view), status=status)
