"""An Atlassian Statuspage double: the part of its REST API the mirror uses (creating and updating a page's
incidents), as strict as the real one about what it checks.

- Every request needs `Authorization: OAuth <api key>`; anything else is answered 401 (`{"error": "Could
  not authenticate"}`), as is a key of another page's.
- `POST /v1/pages/{page_id}/incidents` and `PATCH /v1/pages/{page_id}/incidents/{incident_id}` take a JSON
  object `{"incident": {...}}`: `name` (required to create), `status` (investigating, identified,
  monitoring, resolved), `body`, `impact_override` (none, minor, major, critical), `components` (the page's
  component id → operational, degraded_performance, partial_outage, major_outage, under_maintenance),
  `component_ids` and `deliver_notifications`. Another key, a wrong type or value, or an unknown component
  is a 422 with Statuspage's `{"error": [...]}`; a body that is not such an object, 400; an unknown page or
  incident, 404. A created incident is answered 201 with its `id` (12 lowercase characters); each
  request with a `body` adds an incident update, as Statuspage does.
- Statuspage allows about one request a second per key: `rate_limit_every = n` answers every n-th request
  429 with `Retry-After: retry_after`. `fail(status, times)` answers the next `times` requests `status`
  (a 500 for a while).
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

STATUSES = {"investigating", "identified", "monitoring", "resolved"}
IMPACTS = {"none", "minor", "major", "critical"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
KEYS = {"name", "status", "body", "impact_override", "components", "component_ids", "deliver_notifications"}


@dataclass
class Request:
    """One request as it arrived, and the status it was answered."""

    method: str
    path: str
    authorization: str | None
    body: Any
    status: int = 0


@dataclass
class PageIncident:
    """An incident on the page, with its updates (oldest first)."""

    id: str
    name: str
    status: str
    impact: str
    components: dict[str, str] = field(default_factory=dict)
    updates: list[dict[str, str]] = field(default_factory=list)


class StatuspageDouble:
    """One Statuspage page (`page_id`, reached with `api_key`) with `components`, served at `url`."""

    def __init__(
        self, *, page_id: str = "pg0tocsin001", api_key: str = "sp-key-1", components: Collection[str] = ()
    ) -> None:
        self.page_id, self.api_key, self.components = page_id, api_key, set(components)
        self.incidents: dict[str, PageIncident] = {}
        self.requests: list[Request] = []
        self.rate_limit_every: int | None = None
        self.retry_after = 1
        self._failures: list[int] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> StatuspageDouble:
        app = web.Application()
        app.router.add_post("/v1/pages/{page_id}/incidents", self._create)
        app.router.add_patch("/v1/pages/{page_id}/incidents/{incident_id}", self._update)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, status: int, times: int) -> None:
        """Answer the next `times` requests `status` (after checking who is asking)."""
        self._failures += [status] * times

    def answered(self, status: int) -> list[Request]:
        """The requests answered `status`."""
        return [r for r in self.requests if r.status == status]

    # ----- the API ---------------------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        return await self._handle(request, None)

    async def _update(self, request: web.Request) -> web.Response:
        return await self._handle(request, request.match_info["incident_id"])

    async def _handle(self, request: web.Request, incident_id: str | None) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        seen = Request(request.method, request.path, request.headers.get("Authorization"), body)
        self.requests.append(seen)
        response = self._answer(request, seen, incident_id)
        seen.status = response.status
        return response

    def _answer(self, request: web.Request, seen: Request, incident_id: str | None) -> web.Response:
        if seen.authorization != f"OAuth {self.api_key}":
            return web.json_response({"error": "Could not authenticate"}, status=401)
        if request.match_info["page_id"] != self.page_id:
            return web.json_response({"error": "Page not found"}, status=404)
        if self.rate_limit_every and len(self.requests) % self.rate_limit_every == 0:
            return web.json_response(
                {"error": "Rate limit exceeded"}, status=429, headers={"Retry-After": str(self.retry_after)}
            )
        if self._failures:
            return web.json_response({"error": "Something went wrong"}, status=self._failures.pop(0))
        if request.content_type != "application/json" or not isinstance(seen.body, dict):
            return web.json_response({"error": "The body must be a JSON object"}, status=400)
        if set(seen.body) != {"incident"} or not isinstance(seen.body["incident"], dict):
            return web.json_response({"error": 'The body must be {"incident": {...}}'}, status=400)
        fields = seen.body["incident"]
        problems = self._problems(fields, creating=incident_id is None)
        if problems:
            return web.json_response({"error": problems}, status=422)
        if incident_id is None:
            incident_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(12))
            self.incidents[incident_id] = PageIncident(incident_id, fields["name"], "investigating", "none")
        elif incident_id not in self.incidents:
            return web.json_response({"error": "Incident not found"}, status=404)
        incident = self.incidents[incident_id]
        incident.name = fields.get("name", incident.name)
        incident.status = fields.get("status", incident.status)
        incident.impact = fields.get("impact_override", incident.impact)
        incident.components.update(fields.get("components", {}))
        if "body" in fields:
            incident.updates.append({"status": incident.status, "body": fields["body"]})
        answer = {
            "id": incident.id,
            "name": incident.name,
            "status": incident.status,
            "impact": incident.impact,
            "page_id": self.page_id,
            "incident_updates": [{"status": u["status"], "body": u["body"]} for u in reversed(incident.updates)],
        }
        return web.json_response(answer, status=201 if request.method == "POST" else 200)

    def _problems(self, fields: dict[str, Any], *, creating: bool) -> list[str]:
        problems = [f"{key} is not a known attribute" for key in sorted(set(fields) - KEYS)]
        if creating and not (isinstance(fields.get("name"), str) and fields["name"].strip()):
            problems.append("name can't be blank")
        if "name" in fields and not isinstance(fields["name"], str):
            problems.append("name must be a string")
        if "status" in fields and fields["status"] not in STATUSES:
            problems.append(f"status {fields['status']!r} is not one of {sorted(STATUSES)}")
        if "body" in fields and not isinstance(fields["body"], str):
            problems.append("body must be a string")
        if "impact_override" in fields and fields["impact_override"] not in IMPACTS:
            problems.append(f"impact_override {fields['impact_override']!r} is not one of {sorted(IMPACTS)}")
        if "deliver_notifications" in fields and not isinstance(fields["deliver_notifications"], bool):
            problems.append("deliver_notifications must be true or false")
        components = fields.get("components", {})
        if not isinstance(components, dict):
            problems.append("components must be an object of component id to status")
        else:
            for component, status in components.items():
                if component not in self.components:
                    problems.append(f"component {component!r} is not on this page")
                if status not in COMPONENT_STATUSES:
                    problems.append(f"component status {status!r} is not one of {sorted(COMPONENT_STATUSES)}")
        ids = fields.get("component_ids", [])
        if not isinstance(ids, list) or any(i not in self.components for i in ids):
            problems.append("component_ids must list components of this page")
        return problems
