"""A strict Linear stand-in: a GraphQL endpoint (graphql-core, over a subset of Linear's own schema, so
a query naming a field or argument Linear does not have fails validation as it would there) holding one
workspace with teams, workflow states, users, labels and issues.

It checks `Authorization: <API key>` (anything else, `Bearer` included, is an AUTHENTICATION_ERROR in
`errors[]` with HTTP 200), validates `issueCreate`'s input (the team, labels and assignee must exist, the
due date must be a TimelessDate), and sends Linear's rate-limit headers (`X-RateLimit-Requests-*`,
`X-RateLimit-Complexity-*`, resets in epoch milliseconds) on every answer.

Tests make it misbehave: `rate_limit(n, retry_after)` answers the next n calls HTTP 400 RATELIMITED,
`outage(500)` answers 500 until `outage(None)`. `move_by_person(identifier, state_type)` plays someone
moving the issue in Linear and POSTs the `Issue` `update` webhook to `webhook_url` (Tocsin's
`/trackers/<name>/webhook`), signed `Linear-Signature` (hex HMAC-SHA256 of the body), with
`Linear-Delivery` and `webhookTimestamp`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from graphql import GraphQLError, GraphQLScalarType, build_schema, graphql
from graphql.language import ast

from tests.trackers.double_base import Call, Delivery, TrackerDouble

SDL = """
scalar TimelessDate
type Query {
  viewer: User!
  teams(filter: TeamFilter, first: Int): TeamConnection!
  team(id: String!): Team!
  users(filter: UserFilter, first: Int): UserConnection!
  issueLabels(filter: IssueLabelFilter, first: Int): IssueLabelConnection!
  issue(id: String!): Issue!
}
type Mutation {
  issueCreate(input: IssueCreateInput!): IssuePayload!
  issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
}
input StringComparator { eq: String, neq: String, in: [String!], eqIgnoreCase: String }
input TeamFilter { key: StringComparator, name: StringComparator }
input UserFilter { email: StringComparator, name: StringComparator }
input IssueLabelFilter { name: StringComparator }
input IssueCreateInput {
  teamId: String!, title: String, description: String, dueDate: TimelessDate, labelIds: [String!],
  assigneeId: String, stateId: String, priority: Int
}
input IssueUpdateInput { stateId: String, title: String, description: String, assigneeId: String }
type User { id: ID!, name: String!, email: String!, active: Boolean! }
type UserConnection { nodes: [User!]! }
type WorkflowState { id: ID!, name: String!, type: String!, position: Float! }
type WorkflowStateConnection { nodes: [WorkflowState!]! }
type IssueLabel { id: ID!, name: String! }
type IssueLabelConnection { nodes: [IssueLabel!]! }
type Team { id: ID!, key: String!, name: String!, states: WorkflowStateConnection!, labels: IssueLabelConnection! }
type TeamConnection { nodes: [Team!]! }
type Issue {
  id: ID!, identifier: String!, url: String!, title: String!, description: String, dueDate: TimelessDate,
  state: WorkflowState!, team: Team!, assignee: User, labels: IssueLabelConnection!
}
type IssuePayload { success: Boolean!, issue: Issue, lastSyncId: Float! }
"""
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATES = [("Backlog", "backlog"), ("Todo", "unstarted"), ("In Progress", "started"), ("Done", "completed")]
STATES.append(("Canceled", "canceled"))


def _date(value: Any) -> str:
    if not isinstance(value, str) or not DATE.match(value):
        raise GraphQLError("Argument Validation Error: dueDate must be a date (YYYY-MM-DD)")
    return value


def _date_literal(node: Any, _variables: Any = None) -> str:
    return _date(node.value if isinstance(node, ast.StringValueNode) else None)


def _invalid(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": "invalid input", "code": "INVALID_INPUT", "userError": True})


@dataclass
class LinearIssue:
    """An issue as the double holds it (`input` as `issueCreate` got it)."""

    id: str
    identifier: str
    team: dict[str, Any]
    input: dict[str, Any]
    state: dict[str, Any]
    history: list[str] = field(default_factory=list)  # state types it was moved to


class LinearDouble(TrackerDouble):
    """Linear (the GraphQL endpoint at `api_url`) with a team `ENG` the key `api_key` may use."""

    def __init__(
        self,
        *,
        api_key: str = "lin_api_test",
        secret: str = "linear-hook-secret",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.secret = secret  # the webhook's signing secret
        self.clock = clock
        self.team: dict[str, Any] = {"id": str(uuid.uuid4()), "key": "ENG", "name": "Engineering"}
        self.team["states"] = {
            "nodes": [
                {"id": str(uuid.uuid4()), "name": name, "type": kind, "position": float(at)}
                for at, (name, kind) in enumerate(STATES)
            ]
        }
        self.team["labels"] = {"nodes": [{"id": str(uuid.uuid4()), "name": "incident"}]}
        self.users: list[dict[str, Any]] = []
        self.issues: dict[str, LinearIssue] = {}  # by identifier
        self.queries: list[str] = []  # every operation asked, in order
        self._numbers = itertools.count(1)
        self._rate_limited = 0
        self._retry_after = 0.0
        self._schema = build_schema(SDL)
        date_type = self._schema.type_map["TimelessDate"]
        assert isinstance(date_type, GraphQLScalarType)
        setattr(date_type, "parse_value", _date)  # noqa: B010 (mypy: a method is replaced)
        setattr(date_type, "parse_literal", _date_literal)  # noqa: B010
        self.app.router.add_post("/graphql", self._graphql)

    @property
    def api_url(self) -> str:
        """The GraphQL endpoint (the policy's `api_url`)."""
        return f"{self.url}/graphql"

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """Linear's error shape."""
        return {"errors": [{"message": message, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}

    # ----- what the test makes it do ----------------------------------------------------------------
    def add_user(self, email: str, name: str) -> dict[str, Any]:
        """A user `users(filter: {email})` can find."""
        user = {"id": str(uuid.uuid4()), "name": name, "email": email, "active": True}
        self.users.append(user)
        return user

    def rate_limit(self, calls: int, retry_after: float = 20.0) -> None:
        """Answer the next `calls` requests RATELIMITED, the budget refilled `retry_after` s from now."""
        self._rate_limited, self._retry_after = calls, retry_after

    def state_of_type(self, kind: str) -> dict[str, Any]:
        """The team's first workflow state of this type."""
        return next(s for s in self.team["states"]["nodes"] if s["type"] == kind)

    async def move_by_person(
        self, identifier: str, kind: str, *, send: bool = True, secret: str | None = None, at: float | None = None
    ) -> Delivery:
        """Someone moves the issue to the team's state of type `kind`; the webhook is sent to `webhook_url`
        (unless `send` is False), signed with the secret (or `secret`: forged), stamped `at` (now)."""
        issue = self.issues[identifier]
        before, issue.state = issue.state, self.state_of_type(kind)
        issue.history.append(kind)
        delivery = self.webhook(self.webhook_body(issue, before, at=at), secret=secret)
        if send:
            await self.send(delivery)
        return delivery

    def webhook_body(self, issue: LinearIssue, before: dict[str, Any], *, at: float | None = None) -> bytes:
        """An Issue `update` webhook for a state change of `issue` from `before`, sent at `at` (now)."""
        moment = self.clock() if at is None else at
        event = {
            "action": "update",
            "type": "Issue",
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment)),
            "data": {**self._issue_json(issue), "stateId": issue.state["id"], "teamId": self.team["id"]},
            "updatedFrom": {"stateId": before["id"], "updatedAt": "2026-12-01T00:00:00.000Z"},
            "url": self._issue_json(issue)["url"],
            "organizationId": "org-1",
            "webhookId": "hook-1",
            "webhookTimestamp": int(moment * 1000),
        }
        return json.dumps(event).encode()

    def webhook(self, body: bytes, *, secret: str | None = None) -> Delivery:
        """The delivery Linear makes of `body`: `Linear-Signature` (hex HMAC-SHA256), `Linear-Delivery`."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Linear-Signature": hmac.new((secret or self.secret).encode(), body, hashlib.sha256).hexdigest(),
            "Linear-Delivery": str(uuid.uuid4()),
            "Linear-Event": "Issue",
            "User-Agent": "Linear-Webhook",
        }
        return Delivery(self.webhook_url, headers, body)

    # ----- the server -------------------------------------------------------------------------------
    def _limits(self, remaining: int) -> dict[str, str]:
        reset = str(int((self.clock() + (self._retry_after if remaining == 0 else 3600)) * 1000))
        return {
            "X-RateLimit-Requests-Limit": "5000",
            "X-RateLimit-Requests-Remaining": str(remaining),
            "X-RateLimit-Requests-Reset": reset,
            "X-RateLimit-Complexity-Limit": "3000000",
            "X-RateLimit-Complexity-Remaining": "2999000" if remaining else "0",
            "X-RateLimit-Complexity-Reset": reset,
        }

    async def _graphql(self, request: web.Request) -> web.Response:
        response = await self._answer(request)
        self.calls.append(Call(request.method, request.path, self.queries[-1:], response.status))
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        if self._rate_limited > 0:
            self._rate_limited -= 1
            error = {"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED", "type": "ratelimited"}}
            return web.json_response({"errors": [error]}, status=400, headers=self._limits(0))
        if request.headers.get("Authorization") != self.api_key:
            error = {
                "message": "Authentication required, not authenticated",
                "extensions": {"type": "authentication error", "code": "AUTHENTICATION_ERROR", "userError": True},
            }
            return web.json_response({"errors": [error]}, status=200)
        try:
            asked = await request.json()
            query, variables = asked["query"], asked.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return web.json_response({"errors": [{"message": "Must provide query string."}]}, status=400)
        self.queries.append(query)
        result = await graphql(self._schema, query, root_value=_Root(self), variable_values=variables)
        errors = [
            {**e.formatted, "extensions": e.extensions or {"code": "GRAPHQL_VALIDATION_FAILED"}}
            for e in result.errors or []
        ]
        answer: dict[str, Any] = {"data": result.data}
        if errors:
            answer["errors"] = errors
        status = 400 if errors and result.data is None and "GRAPHQL_VALIDATION_FAILED" in json.dumps(errors) else 200
        return web.json_response(answer, status=status, headers=self._limits(4999))

    def _issue_json(self, issue: LinearIssue) -> dict[str, Any]:
        assignee = next((u for u in self.users if u["id"] == issue.input.get("assigneeId")), None)
        labels = [label for label in self.team["labels"]["nodes"] if label["id"] in issue.input.get("labelIds", [])]
        return {
            "id": issue.id,
            "identifier": issue.identifier,
            "url": f"https://linear.app/example/issue/{issue.identifier}",
            "title": issue.input.get("title", ""),
            "description": issue.input.get("description"),
            "dueDate": issue.input.get("dueDate"),
            "state": issue.state,
            "team": self.team,
            "assignee": assignee,
            "labels": {"nodes": labels},
        }

    def _find(self, issue_id: str) -> LinearIssue:
        found = next((i for i in self.issues.values() if issue_id in (i.id, i.identifier)), None)
        if found is None:
            raise _invalid("Entity not found: Issue")
        return found


class _Root:
    """The resolvers: graphql-core calls the root value's methods with the field's arguments."""

    def __init__(self, double: LinearDouble) -> None:
        self.d = double

    def viewer(self, _info: Any) -> dict[str, Any]:
        return {"id": "user-tocsin", "name": "Tocsin", "email": "tocsin@example.com", "active": True}

    def teams(self, _info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
        key = ((filter or {}).get("key") or {}).get("eq")
        return {"nodes": [self.d.team] if key in (None, self.d.team["key"]) else []}

    def team(self, _info: Any, id: str) -> dict[str, Any]:
        if id not in (self.d.team["id"], self.d.team["key"]):
            raise _invalid("Entity not found: Team")
        return self.d.team

    def users(self, _info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
        email = ((filter or {}).get("email") or {}).get("eq")
        return {"nodes": [u for u in self.d.users if email is None or u["email"] == email]}

    def issueLabels(self, _info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
        names = ((filter or {}).get("name") or {}).get("in")
        return {"nodes": [n for n in self.d.team["labels"]["nodes"] if names is None or n["name"] in names]}

    def issue(self, _info: Any, id: str) -> dict[str, Any]:
        return self.d._issue_json(self.d._find(id))

    def issueCreate(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        if input["teamId"] != self.d.team["id"]:
            raise _invalid("Entity not found: Team")
        if not (input.get("title") or "").strip():
            raise _invalid("Argument Validation Error: title should not be empty")
        known = {label["id"] for label in self.d.team["labels"]["nodes"]}
        if set(input.get("labelIds") or []) - known:
            raise _invalid("Entity not found: IssueLabel")
        if input.get("assigneeId") and not any(u["id"] == input["assigneeId"] for u in self.d.users):
            raise _invalid("Entity not found: User")
        identifier = f"{self.d.team['key']}-{next(self.d._numbers)}"
        issue = LinearIssue(str(uuid.uuid4()), identifier, self.d.team, dict(input), self.d.state_of_type("unstarted"))
        self.d.issues[identifier] = issue
        return {"success": True, "issue": self.d._issue_json(issue), "lastSyncId": 1.0}

    def issueUpdate(self, _info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        issue = self.d._find(id)
        if "stateId" in input:
            state = next((s for s in self.d.team["states"]["nodes"] if s["id"] == input["stateId"]), None)
            if state is None:
                raise _invalid("Entity not found: WorkflowState")
            issue.state = state
            issue.history.append(state["type"])
        return {"success": True, "issue": self.d._issue_json(issue), "lastSyncId": 2.0}
