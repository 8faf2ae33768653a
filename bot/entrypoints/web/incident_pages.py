"""The incident pages: the list (`GET /`, filtered and searched, a page at a time), one incident
(`GET /incidents/INC-n`) and its postmortem draft (`GET /incidents/INC-n/postmortem`). Each reads what the
signed-in person may see, looks up the names it shows, and renders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.incidents import Incident, format_age
from bot.domain.policy import Policy
from bot.entrypoints.web.config import WebSettings
from bot.entrypoints.web.people import People
from bot.entrypoints.web.queries import STATUSES, list_query
from bot.entrypoints.web.reads import IncidentDetail, Viewer, WebReads
from bot.entrypoints.web.render import Renderer, mentioned
from bot.entrypoints.web.sessions import Session
from bot.usecases.ports import Clock

PAGE_SIZE = 50


@dataclass
class IncidentPages:
    """The handlers of the incident pages."""

    reads: WebReads
    people: People
    render: Renderer
    settings: WebSettings
    policy: Policy
    clock: Clock

    async def incidents(self, request: web.Request, session: Session) -> web.StreamResponse:
        """`GET /`: the incidents the person may see, newest first, as filtered."""
        asked = list_query(request.query, self.policy)
        found = await self.reads.incidents(_viewer(session), asked.filters(), after=asked.after, limit=PAGE_SIZE)
        names = await self.people.names(i.commander for i in found.items)
        return self.render.page(
            "incidents.html",
            session=session,
            section="incidents",
            incidents=found.items,
            asked=asked,
            next_url=asked.next_url(found.after) if found.after else None,
            statuses=STATUSES,
            severities=self.policy.severity_names,
            services=sorted(self.policy.services),
            names=names,
            now=self.clock(),
        )

    async def incident(self, request: web.Request, session: Session) -> web.StreamResponse:
        """`GET /incidents/{ref}`: one incident, everything about it."""
        detail = await self.reads.detail(_viewer(session), request.match_info["ref"])
        return self.render.page(
            "incident.html",
            session=session,
            section="incidents",
            incident=detail.view.incident,
            detail=detail,
            figures=self._figures(detail.view.incident),
            roles={r.key: r.name for r in self.policy.roles},
            slack_channel=self._channel_link(detail.view.incident),
            names=await self.people.names(_people_in(detail)),
            now=self.clock(),
        )

    async def postmortem(self, request: web.Request, session: Session) -> web.StreamResponse:
        """`GET /incidents/{ref}/postmortem`: the postmortem draft, rendered from its Markdown."""
        incident, markdown = await self.reads.postmortem(_viewer(session), request.match_info["ref"])
        return self.render.page(
            "postmortem.html",
            session=session,
            section="incidents",
            incident=incident,
            draft=self.render.markdown(markdown),
        )

    def _figures(self, incident: Incident) -> list[tuple[str, str]]:
        """The header's figures: when things happened and how long they took."""
        when, now = self.render.when, self.clock()
        declared = incident.declared_at
        figures = [("Declared", when(declared))]
        if incident.started_at is not None:
            figures.append(
                ("Impact started", f"{when(incident.started_at)} ({_took(incident.started_at, declared)} to declare)")
            )
        if incident.acknowledged_at is not None:
            figures.append(
                (
                    "Acknowledged",
                    f"{when(incident.acknowledged_at)} (after {_took(declared, incident.acknowledged_at)})",
                )
            )
        if incident.mitigated_at is not None:
            figures.append(
                ("Mitigated", f"{when(incident.mitigated_at)} (after {_took(declared, incident.mitigated_at)})")
            )
        if incident.resolved_at is not None:
            figures.append(
                ("Resolved", f"{when(incident.resolved_at)} (after {_took(declared, incident.resolved_at)})")
            )
        else:
            figures.append(("Open for", _took(declared, now)))
            if incident.next_update_due is not None:
                figures.append(("Next update due", when(incident.next_update_due)))
        if incident.service:
            figures.append(("Service", incident.service))
        return figures

    def _channel_link(self, incident: Incident) -> str | None:
        """Where Slack opens the incident's channel (in the app or the browser)."""
        if incident.channel_id is None:
            return None
        query = urlencode({"channel": incident.channel_id, "team": incident.team_id})
        return f"{self.settings.oauth_url.rstrip('/')}/app_redirect?{query}"


def _viewer(session: Session) -> Viewer:
    return Viewer(session.user_id, session.team_id)


def _took(start: datetime, end: datetime) -> str:
    return format_age(end - start)


def _people_in(detail: IncidentDetail) -> set[str | None]:
    """Everyone an incident's page names."""
    incident = detail.view.incident
    people: set[str | None] = {incident.declared_by, incident.acknowledged_by, *incident.roles.values()}
    people |= {span.user_id for span in detail.view.role_history}
    people |= {change.actor for change in detail.view.severity_history}
    people |= {entry.actor for entry in detail.timeline} | mentioned(entry.text for entry in detail.timeline)
    people |= {f.owner for f in detail.follow_ups} | {f.created_by for f in detail.follow_ups}
    people |= {p.created_by for p in detail.pages} | {p.acknowledged_by for p in detail.pages}
    people |= {p.plan.name.removeprefix("user:") for p in detail.pages}
    return people
