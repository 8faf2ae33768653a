"""A strict Jira Cloud stand-in: the REST API v3 calls Tocsin makes, with Jira's rules and answers.

It checks Basic auth (e-mail:API token; 401 otherwise, and 403 for a project the account may not use),
validates `POST /rest/api/3/issue` as Jira does — a known project key and issue type, a summary, a
description in Atlassian Document Format (a plain string is 400, as in Jira), labels without spaces, a
`YYYY-MM-DD` due date, an assignee by an existing account ID — and answers errors in Jira's shape
`{"errorMessages": [...], "errors": {...}}`. Issues follow a workflow To Do → In Progress → Done whose
transitions are listed per issue; statuses carry their category (`new`, `indeterminate`, `done`).

Tests make it misbehave: `rate_limit(n, retry_after)` answers the next n calls 429 with `Retry-After`,
`outage(500)` answers 500 until `outage(None)`. `transition_by_person(key, status)` plays someone moving
the issue in Jira: the status changes, and the admin webhook `jira:issue_updated`, signed
`X-Hub-Signature: sha256=<HMAC-SHA256 of the body>` with `X-Atlassian-Webhook-Identifier`, is POSTed to
`webhook_url` (Tocsin's `/trackers/<name>/webhook`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.trackers.adf_check import adf_problems
from tests.trackers.double_base import Call, Delivery, Handler, TrackerDouble

STATUSES = {  # name -> (id, category key, category name)
    "To Do": ("10000", "new", "To Do"),
    "In Progress": ("10001", "indeterminate", "In Progress"),
    "Done": ("10002", "done", "Done"),
}
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done"}  # transition id -> target status
# the fields on the create screen
FIELDS = {"project", "issuetype", "summary", "description", "labels", "duedate", "assignee", "components"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class JiraUser:
    """An account: what `user/search` finds by e-mail."""

    account_id: str
    email: str
    display_name: str


@dataclass
class JiraIssue:
    """An issue as the double holds it."""

    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    history: list[str] = field(default_factory=list)  # statuses it was moved to, in order


def _status(name: str) -> dict[str, Any]:
    status_id, category, category_name = STATUSES[name]
    return {"id": status_id, "name": name, "statusCategory": {"key": category, "name": category_name}}


def _error(status: int, *messages: str, **fields: str) -> web.Response:
    return web.json_response({"errorMessages": list(messages), "errors": fields}, status=status)


class JiraDouble(TrackerDouble):
    """A Jira Cloud site at `url` with one project `project` the account `email`/`token` may use."""

    def __init__(
        self,
        *,
        email: str = "tocsin@example.com",
        token: str = "jira-token",
        project: str = "OPS",
        secret: str = "jira-hook-secret",
    ) -> None:
        super().__init__()
        self.email = email
        self.token = token
        self.project = project
        self.secret = secret  # the admin webhook's secret
        self.forbidden_projects: set[str] = {"SECRET"}  # exist, but the account may not use them
        self.issue_types = {"Task", "Bug"}
        self.components = {"Platform", "Payments"}  # the project's components
        self.users: list[JiraUser] = []
        self.issues: dict[str, JiraIssue] = {}
        self._ids = itertools.count(10001)
        self._rate_limited = 0
        self._retry_after = 0
        self.app.middlewares.append(self._gate)
        self.app.router.add_get("/rest/api/3/myself", self._myself)
        self.app.router.add_get("/rest/api/3/project/{key}", self._project)
        self.app.router.add_get("/rest/api/3/mypermissions", self._permissions)
        self.app.router.add_get("/rest/api/3/user/search", self._user_search)
        self.app.router.add_post("/rest/api/3/issue", self._create)
        self.app.router.add_get("/rest/api/3/issue/{id}", self._issue)
        self.app.router.add_get("/rest/api/3/issue/{id}/transitions", self._transitions)
        self.app.router.add_post("/rest/api/3/issue/{id}/transitions", self._transition)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """Jira's error shape."""
        return {"errorMessages": [message], "errors": {}}

    # ----- what the test makes it do ----------------------------------------------------------------
    def add_user(self, email: str, display_name: str) -> JiraUser:
        """An account `user/search` can find."""
        user = JiraUser(f"acc-{uuid.uuid4().hex[:12]}", email, display_name)
        self.users.append(user)
        return user

    def rate_limit(self, calls: int, retry_after: int = 7) -> None:
        """Answer the next `calls` requests 429 with `Retry-After: retry_after`."""
        self._rate_limited, self._retry_after = calls, retry_after

    def issue(self, key: str) -> JiraIssue:
        """The issue with this key."""
        return self.issues[key]

    async def transition_by_person(
        self, key: str, status: str, *, send: bool = True, secret: str | None = None
    ) -> Delivery:
        """Someone moves the issue to `status` in Jira; the admin webhook is sent to `webhook_url` (unless
        `send` is False), signed with the webhook's secret (or `secret`: a forged delivery)."""
        issue = self.issues[key]
        before, issue.status = issue.status, status
        issue.history.append(status)
        delivery = self.webhook(self.webhook_body(issue, before), secret=secret)
        if send:
            await self.send(delivery)
        return delivery

    def webhook_body(self, issue: JiraIssue, before: str) -> bytes:
        """A `jira:issue_updated` body for a status change of `issue` from `before` to its status now."""
        event = {
            "timestamp": 1764800000000 + len(self.deliveries),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "acc-person", "displayName": "A Person"},
            "issue": self._issue_json(issue),
            "changelog": {
                "id": str(next(self._ids)),
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": STATUSES[before][0],
                        "fromString": before,
                        "to": STATUSES[issue.status][0],
                        "toString": issue.status,
                    }
                ],
            },
        }
        return json.dumps(event).encode()

    def webhook(self, body: bytes, *, secret: str | None = None) -> Delivery:
        """The delivery Jira makes of `body`: signed `X-Hub-Signature: sha256=…`, with its identifier."""
        signature = hmac.new((secret or self.secret).encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": f"sha256={signature}",
            "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
            "User-Agent": "Atlassian Webhook HTTP Client",
        }
        return Delivery(self.webhook_url, headers, body)

    # ----- the server -------------------------------------------------------------------------------
    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response: web.StreamResponse
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if self._rate_limited > 0:
            self._rate_limited -= 1
            response = web.Response(status=429, headers={"Retry-After": str(self._retry_after)}, text="Rate limited")
        elif request.headers.get("Authorization") != expected:
            response = _error(401, "Client must be authenticated to access this resource.")
        else:
            response = await handler(request)
        try:
            body = await request.json() if request.can_read_body else dict(request.query)
        except ValueError:
            body = None
        self.calls.append(Call(request.method, request.path, body, response.status))
        return response

    def _find(self, id_or_key: str) -> JiraIssue | None:
        return next((i for i in self.issues.values() if id_or_key in (i.id, i.key)), None)

    def _issue_json(self, issue: JiraIssue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.url}/rest/api/3/issue/{issue.id}",
            "fields": {**issue.fields, "status": _status(issue.status)},
        }

    async def _myself(self, request: web.Request) -> web.Response:
        return web.json_response({"accountId": "acc-tocsin", "emailAddress": self.email, "displayName": "Tocsin"})

    async def _project(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if key in self.forbidden_projects:
            return _error(403, "You do not have permission to view this project.")
        if key != self.project:
            return _error(404, f"No project could be found with key '{key}'.")
        return web.json_response({"id": "10000", "key": key, "name": "Operations"})

    async def _permissions(self, request: web.Request) -> web.Response:
        wanted = [p for p in request.query.get("permissions", "").split(",") if p]
        if not wanted:
            return _error(400, "The permissions query parameter is required.")
        mine = request.query.get("projectKey") == self.project
        return web.json_response({"permissions": {p: {"key": p, "havePermission": mine} for p in wanted}})

    async def _user_search(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").lower()
        if not query:
            return _error(400, "The query parameter is required.")
        found = [u for u in self.users if query in u.email.lower() or query in u.display_name.lower()]
        return web.json_response(
            [{"accountId": u.account_id, "displayName": u.display_name, "active": True} for u in found]
        )

    async def _create(self, request: web.Request) -> web.Response:
        try:
            fields = (await request.json())["fields"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "Request body must hold fields.")
        problems: dict[str, str] = {}
        project = (fields.get("project") or {}).get("key")
        if project in self.forbidden_projects:
            return _error(403, "You do not have permission to create issues in this project.")
        if project != self.project:
            problems["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            problems["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            problems["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255 or "\n" in summary:
            problems["summary"] = "Summary must be less than 255 characters and one line."
        if "description" in fields and (why := adf_problems(fields["description"])):
            problems["description"] = "Operation value must be an Atlassian Document; " + "; ".join(why)
        if any(not isinstance(label, str) or " " in label for label in fields.get("labels", [])):
            problems["labels"] = "The label must not contain spaces."
        for component in fields.get("components", []):
            if not isinstance(component, dict) or component.get("name") not in self.components:
                problems["components"] = f"Component name '{(component or {}).get('name')}' is not valid"
        if "duedate" in fields and not (isinstance(fields["duedate"], str) and DATE.match(fields["duedate"])):
            problems["duedate"] = "Error parsing date string."
        if "assignee" in fields:
            account = (fields["assignee"] or {}).get("accountId")
            if not any(u.account_id == account for u in self.users):
                problems["assignee"] = f"User '{account}' cannot be assigned issues."
        for unknown in set(fields) - FIELDS:
            problems[unknown] = "Field cannot be set. It is not on the appropriate screen, or unknown."
        if problems:
            return _error(400, **problems)
        issue_id = str(next(self._ids))
        key = f"{self.project}-{len(self.issues) + 1}"
        self.issues[key] = JiraIssue(issue_id, key, fields)
        made = {"id": issue_id, "key": key, "self": f"{self.url}/rest/api/3/issue/{issue_id}"}
        return web.json_response(made, status=201)

    async def _issue(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["id"])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        return web.json_response(self._issue_json(issue))

    async def _transitions(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["id"])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        listed = [
            {"id": tid, "name": f"Move to {target}", "to": _status(target), "isAvailable": True}
            for tid, target in TRANSITIONS.items()
            if target != issue.status
        ]
        return web.json_response({"expand": "transitions", "transitions": listed})

    async def _transition(self, request: web.Request) -> web.Response:
        issue = self._find(request.match_info["id"])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        try:
            wanted = str((await request.json())["transition"]["id"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "Missing 'transition' identifier")
        if wanted not in TRANSITIONS or TRANSITIONS[wanted] == issue.status:
            return _error(400, f"Transition id '{wanted}' is not valid for this issue.")
        issue.status = TRANSITIONS[wanted]
        issue.history.append(issue.status)
        return web.Response(status=204)
