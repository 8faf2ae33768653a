"""A GitLab REST v4 double: the project issues endpoints Tocsin calls, as GitLab documents them.

It enforces `PRIVATE-TOKEN` (401 `{"message": "401 Unauthorized"}` otherwise); errors have GitLab's shape
`{"message": …}`; a spent rate limit is 429 with `Retry-After` and the `RateLimit-*` headers. The project
is found by its numeric id or its URL-encoded path. `close_issue(iid)` / `reopen_issue(iid)` change an
issue as a person would and send the `Issue Hook` webhook, with `X-Gitlab-Token`, to `webhook_url`."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.trackers.double_base import Call, Delivery, TrackerDouble


@dataclass
class Issue:
    """A GitLab issue as the double keeps it."""

    iid: int
    title: str
    description: str
    labels: list[str]
    due_date: str | None
    assignee_ids: list[int]
    state: str = "opened"


class GitlabDouble(TrackerDouble):
    """GitLab with one project (`project_id`, `path`), whose token is `token`."""

    def __init__(
        self, *, project_id: int = 42, path: str = "acme/ops", token: str = "glpat-good", secret: str = "gl-secret"
    ) -> None:
        """Serve the project for `token`; webhooks carry `secret`."""
        super().__init__()
        self.project_id, self.path, self.token, self.secret = project_id, path, token, secret
        self.issues: dict[int, Issue] = {}
        self.users = {"ada@example.com": 7}
        self.limited_for: int | None = None  # a rate limit in force: Retry-After seconds
        self.access_level = 30  # Developer
        r = self.app.router
        r.add_post("/api/v4/projects/{project}/issues", self._create)
        r.add_put("/api/v4/projects/{project}/issues/{iid}", self._update)
        r.add_get("/api/v4/projects/{project}/issues/{iid}", self._get)
        r.add_get("/api/v4/projects/{project}", self._project)
        r.add_get("/api/v4/users", self._users)

    def rate_limit(self, seconds: int | None) -> None:
        """Answer 429 with `Retry-After: seconds` (None: lift it)."""
        self.limited_for = seconds

    def _error(self, request: web.Request, status: int, message: str, **headers: str) -> web.Response:
        self.calls.append(Call(request.method, request.path, None, status))
        return web.json_response({"message": message}, status=status, headers=headers)

    def _guard(self, request: web.Request) -> web.Response | None:
        if request.headers.get("PRIVATE-TOKEN") != self.token:
            return self._error(request, 401, "401 Unauthorized")
        if self.limited_for is not None:
            reset = str(int(time.time()) + self.limited_for)
            headers = {
                "Retry-After": str(self.limited_for),
                "RateLimit-Limit": "600",
                "RateLimit-Observed": "601",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": reset,
            }
            return self._error(request, 429, "Retry later", **headers)
        return None

    def _ours(self, request: web.Request) -> bool:
        return unquote(request.match_info["project"]) in (str(self.project_id), self.path)

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        return {
            "id": 9000 + issue.iid,
            "iid": issue.iid,
            "project_id": self.project_id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "labels": issue.labels,
            "due_date": issue.due_date,
            "assignees": [{"id": i} for i in issue.assignee_ids],
            "web_url": f"https://gitlab.test/{self.path}/-/issues/{issue.iid}",
        }

    def _ok(self, request: web.Request, body: Any, status: int = 200, sent: Any = None) -> web.Response:
        self.calls.append(Call(request.method, request.path, sent, status))
        return web.json_response(body, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        if (refused := self._guard(request)) is not None:
            return refused
        if not self._ours(request):
            return self._error(request, 404, "404 Project Not Found")
        payload = await request.json()
        if not payload.get("title"):
            return self._error(request, 400, "title is missing")
        iid = len(self.issues) + 1
        labels = [label for label in str(payload.get("labels", "")).split(",") if label]
        issue = Issue(
            iid,
            payload["title"],
            payload.get("description", ""),
            labels,
            payload.get("due_date"),
            payload.get("assignee_ids", []),
        )
        self.issues[iid] = issue
        return self._ok(request, self._issue_json(issue), 201, sent=payload)

    async def _update(self, request: web.Request) -> web.Response:
        if (refused := self._guard(request)) is not None:
            return refused
        issue = self.issues.get(int(request.match_info["iid"])) if self._ours(request) else None
        if issue is None:
            return self._error(request, 404, "404 Not found")
        payload = await request.json()
        event = payload.get("state_event")
        if event not in (None, "close", "reopen"):
            return self._error(request, 400, "state_event does not have a valid value")
        if event is not None:
            issue.state = "closed" if event == "close" else "opened"
        return self._ok(request, self._issue_json(issue), sent=payload)

    async def _get(self, request: web.Request) -> web.Response:
        if (refused := self._guard(request)) is not None:
            return refused
        issue = self.issues.get(int(request.match_info["iid"])) if self._ours(request) else None
        if issue is None:
            return self._error(request, 404, "404 Not found")
        return self._ok(request, self._issue_json(issue))

    async def _project(self, request: web.Request) -> web.Response:
        if (refused := self._guard(request)) is not None:
            return refused
        if not self._ours(request):
            return self._error(request, 404, "404 Project Not Found")
        access = {"access_level": self.access_level, "notification_level": 3}
        body = {
            "id": self.project_id,
            "path_with_namespace": self.path,
            "permissions": {"project_access": access, "group_access": None},
        }
        return self._ok(request, body)

    async def _users(self, request: web.Request) -> web.Response:
        if (refused := self._guard(request)) is not None:
            return refused
        found = self.users.get(request.query.get("search", ""))
        return self._ok(request, [{"id": found, "username": "ada"}] if found else [])

    # ----- people in GitLab -------------------------------------------------------------------------------
    def webhook(self, iid: int, action: str) -> Delivery:
        """The `Issue Hook` GitLab sends when issue `iid` is closed (`close`) or reopened (`reopen`)."""
        issue = self.issues[iid]
        attributes = self._issue_json(issue) | {"action": action, "state": "closed" if action == "close" else "opened"}
        payload = {
            "object_kind": "issue",
            "event_type": "issue",
            "user": {"username": "ada"},
            "project": {"id": self.project_id, "path_with_namespace": self.path},
            "object_attributes": attributes,
        }
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/17.0.0",
            "X-Gitlab-Event": "Issue Hook",
            "X-Gitlab-Token": self.secret,
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "X-Gitlab-Instance": "https://gitlab.test",
        }
        return Delivery(self.webhook_url, headers, json.dumps(payload).encode())

    async def close_issue(self, iid: int, *, send: bool = True) -> Delivery:
        """Someone closes issue `iid` in GitLab; its webhook is sent (unless `send` is False)."""
        self.issues[iid].state = "closed"
        delivery = self.webhook(iid, "close")
        if send:
            await self.send(delivery)
        return delivery

    async def reopen_issue(self, iid: int, *, send: bool = True) -> Delivery:
        """Someone reopens issue `iid`; its webhook is sent (unless `send` is False)."""
        self.issues[iid].state = "opened"
        delivery = self.webhook(iid, "reopen")
        if send:
            await self.send(delivery)
        return delivery
