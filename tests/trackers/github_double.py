"""A GitHub REST API double: the issues endpoints Tocsin calls, as GitHub documents them.

It enforces `Authorization: Bearer <token>` (401 `Bad credentials` otherwise), `Accept:
application/vnd.github+json` and `X-GitHub-Api-Version` (400 for a version it does not know); errors have
GitHub's shape `{"message": …, "documentation_url": …}`; every answer carries `x-ratelimit-*` headers, and
a spent limit is 403 with `x-ratelimit-remaining: 0`; `secondary_limit(seconds)` answers 403 with
`retry-after` (a secondary rate limit). `close_issue(n)` / `reopen_issue(n)` change an issue as a person
would and send the `issues` webhook, signed with `X-Hub-Signature-256`, to `webhook_url`."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.trackers.double_base import Call, Delivery, TrackerDouble

DOCS = "https://docs.github.com/rest"
VERSIONS = {"2022-11-28"}


@dataclass
class Issue:
    """A GitHub issue as the double keeps it."""

    number: int
    title: str
    body: str
    labels: list[str]
    assignees: list[str]
    state: str = "open"
    events: list[str] = field(default_factory=list)


class GithubDouble(TrackerDouble):
    """GitHub with one repository, `repo`, whose token is `token`."""

    def __init__(self, *, repo: str = "acme/ops", token: str = "ghp_good", secret: str = "gh-hook-secret") -> None:
        """Serve `repo` for `token`; webhooks signed with `secret`."""
        super().__init__()
        self.repo, self.token, self.secret = repo, token, secret
        self.issues: dict[int, Issue] = {}
        self.users = {"ada@example.com": "ada-gh"}  # public e-mails the search finds
        self.remaining = 5000
        self.reset_at = int(time.time()) + 3600
        self.retry_after: int | None = None  # a secondary limit in force
        self.push = True  # the token may write the repository
        r = self.app.router
        r.add_post("/repos/{owner}/{name}/issues", self._create)
        r.add_route("PATCH", "/repos/{owner}/{name}/issues/{number}", self._update)
        r.add_get("/repos/{owner}/{name}/issues/{number}", self._get)
        r.add_get("/repos/{owner}/{name}", self._repository)
        r.add_get("/search/users", self._search_users)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """GitHub's error shape."""
        return {"message": message, "documentation_url": DOCS}

    def secondary_limit(self, seconds: int | None) -> None:
        """Answer 403 with `retry-after: seconds` (None: lift it)."""
        self.retry_after = seconds

    def _limits(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(max(0, self.remaining)),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": str(5000 - max(0, self.remaining)),
            "x-ratelimit-resource": "core",
        }

    def _error(self, request: web.Request, status: int, message: str, **headers: str) -> web.Response:
        self.calls.append(Call(request.method, request.path, None, status))
        return web.json_response(self.error_body(status, message), status=status, headers={**self._limits(), **headers})

    async def _guard(self, request: web.Request) -> web.Response | None:
        """GitHub's checks, in its order: credentials, then media type and version, then rate limits."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(request, 401, "Bad credentials")
        if request.headers.get("Accept") != "application/vnd.github+json":
            return self._error(request, 415, "Unsupported 'Accept' header")
        if request.headers.get("X-GitHub-Api-Version") not in VERSIONS:
            return self._error(request, 400, "Invalid API version")
        if self.retry_after is not None:
            message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            return self._error(request, 403, message, **{"retry-after": str(self.retry_after)})
        if self.remaining <= 0:
            return self._error(request, 403, "API rate limit exceeded for user ID 1.")
        self.remaining -= 1
        return None

    def _repo_of(self, request: web.Request) -> bool:
        return f"{request.match_info['owner']}/{request.match_info['name']}".lower() == self.repo.lower()

    def _ok(self, request: web.Request, body: Any, status: int = 200) -> web.Response:
        sent = body if request.method != "GET" else None
        self.calls.append(Call(request.method, request.path, sent, status))
        return web.json_response(body, status=status, headers=self._limits())

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        return {
            "number": issue.number,
            "id": 1000 + issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "labels": [{"name": label} for label in issue.labels],
            "assignees": [{"login": login} for login in issue.assignees],
            "html_url": f"https://github.test/{self.repo}/issues/{issue.number}",
            "url": f"{self.url}/repos/{self.repo}/issues/{issue.number}",
        }

    async def _create(self, request: web.Request) -> web.Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        if not self._repo_of(request):
            return self._error(request, 404, "Not Found")
        if not self.push:
            return self._error(request, 403, "Resource not accessible by personal access token")
        payload = await request.json()
        if not isinstance(payload.get("title"), str) or not payload["title"]:
            return self._error(request, 422, "Validation Failed")
        number = len(self.issues) + 1
        issue = Issue(
            number, payload["title"], payload.get("body", ""), payload.get("labels", []), payload.get("assignees", [])
        )
        self.issues[number] = issue
        self.calls.append(Call("POST", request.path, payload, 201))
        return web.json_response(self._issue_json(issue), status=201, headers=self._limits())

    async def _update(self, request: web.Request) -> web.Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        issue = self.issues.get(int(request.match_info["number"])) if self._repo_of(request) else None
        if issue is None:
            return self._error(request, 404, "Not Found")
        payload = await request.json()
        if payload.get("state") not in (None, "open", "closed"):
            return self._error(request, 422, "Validation Failed")
        if "state" in payload and payload["state"] != issue.state:
            issue.state = payload["state"]
            issue.events.append(f"{issue.state} by tocsin")
        self.calls.append(Call("PATCH", request.path, payload, 200))
        return web.json_response(self._issue_json(issue), headers=self._limits())

    async def _get(self, request: web.Request) -> web.Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        issue = self.issues.get(int(request.match_info["number"])) if self._repo_of(request) else None
        if issue is None:
            return self._error(request, 404, "Not Found")
        return self._ok(request, self._issue_json(issue))

    async def _repository(self, request: web.Request) -> web.Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        if not self._repo_of(request):
            return self._error(request, 404, "Not Found")
        permissions = {"admin": False, "push": self.push, "pull": True, "triage": self.push}
        return self._ok(request, {"full_name": self.repo, "has_issues": True, "permissions": permissions})

    async def _search_users(self, request: web.Request) -> web.Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        email = request.query.get("q", "").removesuffix(" in:email")
        login = self.users.get(email)
        items = [{"login": login}] if login else []
        return self._ok(request, {"total_count": len(items), "incomplete_results": False, "items": items})

    # ----- people in GitHub -------------------------------------------------------------------------------
    def webhook(self, number: int, action: str) -> Delivery:
        """The signed `issues` webhook GitHub sends when issue `number` is `closed` or `reopened`."""
        issue = self.issues[number]
        payload = {
            "action": action,
            "issue": self._issue_json(issue) | {"state": "closed" if action == "closed" else "open"},
            "repository": {"full_name": self.repo, "name": self.repo.split("/")[1]},
            "sender": {"login": "octocat"},
        }
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/abc123",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": signature,
        }
        return Delivery(self.webhook_url, headers, body)

    async def close_issue(self, number: int, *, send: bool = True) -> Delivery:
        """Someone closes issue `number` in GitHub; its webhook is sent (unless `send` is False)."""
        self.issues[number].state = "closed"
        delivery = self.webhook(number, "closed")
        if send:
            await self.send(delivery)
        return delivery

    async def reopen_issue(self, number: int, *, send: bool = True) -> Delivery:
        """Someone reopens issue `number`; its webhook is sent (unless `send` is False)."""
        self.issues[number].state = "open"
        delivery = self.webhook(number, "reopened")
        if send:
            await self.send(delivery)
        return delivery
