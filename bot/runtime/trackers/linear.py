"""Linear as a tracker (the `Tracker` port of bot/usecases/tracker_ports.py), over its GraphQL API.

- Issues are made with `issueCreate(input: {teamId, title, description (Markdown), dueDate, labelIds,
  assigneeId})`. The team is found by its key (`teams(filter: {key: {eq: …}})`) or, for an ID, by
  `team(id:)`, with its workflow states; labels are matched by name among those that exist (Linear's
  labels are not made on the fly); the owner is the one user `users(filter: {email: {eq: …}})` finds.
- Closing and reopening is `issueUpdate(id, input: {stateId})`: the team's first state (by position) of
  type `completed`, or of type `unstarted` (failing that, `backlog`). An issue whose state is of type
  `completed` or `canceled` is closed.
- Auth: `Authorization: <API key>` (a personal key; no `Bearer`). Rate limits: an answer with
  `extensions.code == "RATELIMITED"` is TrackerBusy until the `X-RateLimit-Requests-Reset` /
  `X-RateLimit-Complexity-Reset` it names (epoch milliseconds), and an answer whose
  `X-RateLimit-Requests-Remaining` or `X-RateLimit-Complexity-Remaining` is 0 holds calls back until
  then. `AUTHENTICATION_ERROR` (in `errors[]`, whatever the HTTP status) is TrackerRefused.
- Inbound: `Linear-Signature` is the hex HMAC-SHA256 of the raw body under the webhook's signing secret;
  a delivery whose `webhookTimestamp` (epoch ms) is more than a minute from now is refused (a replay);
  `Linear-Delivery` identifies it; `{action: "update", type: "Issue", data: {id, state: {type}}}` with
  `stateId` among `updatedFrom` is a state change.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.tracker_issues import (
    IssueChange,
    IssueRef,
    IssueState,
    NewIssue,
    TrackerBusy,
    TrackerError,
    TrackerRefused,
)
from bot.domain.tracker_policy import LinearTracker
from bot.runtime.trackers.base import Answer, TrackerClient, header, json_body

REPLAY_WINDOW = 60.0  # seconds a webhook's timestamp may be from now
CLOSED_TYPES = {"completed", "canceled"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LIMITS = ("Requests", "Complexity")
_REFUSED_CODES = {"AUTHENTICATION_ERROR": "unauthorized", "FORBIDDEN": "forbidden"}

_TEAM_FIELDS = "id key name states { nodes { id name type position } }"
TEAM_BY_KEY = f"query Team($key: String!) {{ teams(filter: {{key: {{eq: $key}}}}) {{ nodes {{ {_TEAM_FIELDS} }} }} }}"
TEAM_BY_ID = f"query Team($id: String!) {{ team(id: $id) {{ {_TEAM_FIELDS} }} }}"
USER = "query User($email: String!) { users(filter: {email: {eq: $email}}) { nodes { id } } }"
LABELS = "query Labels($names: [String!]) { issueLabels(filter: {name: {in: $names}}) { nodes { id name } } }"
CREATE = (
    "mutation Create($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }"
)
STATE = "query State($id: String!) { issue(id: $id) { id state { id type } } }"
UPDATE = (
    "mutation Move($id: String!, $input: IssueUpdateInput!) "
    "{ issueUpdate(id: $id, input: $input) { success issue { id state { type } } } }"
)
VIEWER = "query Viewer { viewer { id name email } }"


@dataclass(kw_only=True)
class LinearIssues(TrackerClient):
    """One Linear team's issues (`team` its key or ID, `api_url` the GraphQL endpoint)."""

    team: str
    api_key: str = field(repr=False)
    api_url: str = "https://api.linear.app/graphql"
    _team: dict[str, Any] | None = field(default=None, init=False, repr=False)

    async def _graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """One GraphQL call; its `data`, or the TrackerError its status or `errors[]` mean."""
        headers = {"Authorization": self.api_key, "Content-Type": "application/json"}
        body = {"query": query, "variables": variables}
        answer = await self.request("POST", self.api_url, headers=headers, json=body, allow_redirects=False)
        if isinstance(answer.body, dict) and answer.body.get("errors"):
            raise self.error_for(answer)
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, dict):
            raise TrackerBusy("bad_answer")
        return data

    def note_limits(self, answer: Answer) -> None:
        """When a budget is spent (or Linear said RATELIMITED), call nothing until it is refilled."""
        spent = _codes(answer) & {"RATELIMITED"} or any(
            header(answer.headers, f"X-RateLimit-{limit}-Remaining") == "0" for limit in _LIMITS
        )
        if spent:
            self.block_for(self._until_reset(answer) or 60.0)

    def _until_reset(self, answer: Answer) -> float | None:
        """Seconds until the latest reset the answer names (None when it names none)."""
        resets: list[float] = []
        for limit in _LIMITS:
            value = header(answer.headers, f"X-RateLimit-{limit}-Reset")
            try:
                if value:
                    resets.append(float(value) / 1000 - self.now())
            except ValueError:
                continue
        return max(0.0, *resets) if resets else None

    def error_for(self, answer: Answer) -> TrackerBusy | TrackerRefused:
        """RATELIMITED is busy (until the reset), AUTHENTICATION_ERROR refused, other errors as the status says."""
        codes = _codes(answer)
        error: TrackerBusy | TrackerRefused
        if "RATELIMITED" in codes:
            error = TrackerBusy("rate_limited", retry_after=self._until_reset(answer))
        elif refused := next((_REFUSED_CODES[c] for c in codes if c in _REFUSED_CODES), None):
            error = TrackerRefused(refused)
        elif codes & {"INTERNAL_SERVER_ERROR"} or answer.status >= 500:
            error = TrackerBusy("server_error")
        elif answer.status < 300 or answer.status == 400:
            error = TrackerRefused("invalid_request")
        else:
            error = super().error_for(answer)
        messages = [str(e.get("message")) for e in _errors(answer)]
        if messages:
            error.add_note("Linear said: " + "; ".join(messages)[:500])
        return error

    async def _team_info(self) -> dict[str, Any]:
        """The team (its ID and workflow states), looked up once."""
        if self._team is None:
            if _UUID.match(self.team):
                found = (await self._graphql(TEAM_BY_ID, id=self.team)).get("team")
            else:
                nodes = (await self._graphql(TEAM_BY_KEY, key=self.team)).get("teams", {}).get("nodes", [])
                found = nodes[0] if nodes else None
            if not isinstance(found, dict):
                raise TrackerRefused("not_found")
            self._team = found
        return self._team

    async def _user_id(self, email: str) -> str | None:
        """The one user with this e-mail (None: none, or several)."""
        nodes = (await self._graphql(USER, email=email)).get("users", {}).get("nodes", [])
        return str(nodes[0]["id"]) if len(nodes) == 1 else None

    async def _label_ids(self, names: tuple[str, ...]) -> list[str]:
        """The IDs of the labels that exist by these names (the others are left out)."""
        nodes = (await self._graphql(LABELS, names=list(names))).get("issueLabels", {}).get("nodes", [])
        wanted = {name.lower() for name in names}
        return [str(n["id"]) for n in nodes if str(n.get("name", "")).lower() in wanted]

    async def create_issue(self, issue: NewIssue) -> IssueRef:
        """Make the issue in the team (assigned when the owner's e-mail finds one Linear user)."""
        team = await self._team_info()
        payload: dict[str, Any] = {"teamId": team["id"], "title": issue.title, "description": issue.body}
        if issue.due_on is not None:
            payload["dueDate"] = issue.due_on.isoformat()
        if issue.labels and (labels := await self._label_ids(issue.labels)):
            payload["labelIds"] = labels
        if issue.assignee_email and (user := await self._user_id(issue.assignee_email)):
            payload["assigneeId"] = user
        made = (await self._graphql(CREATE, input=payload)).get("issueCreate") or {}
        found = made.get("issue")
        if not made.get("success") or not isinstance(found, dict):
            raise TrackerRefused("not_created")
        return IssueRef(id=str(found["id"]), key=str(found["identifier"]), url=str(found["url"]))

    async def state_of(self, issue_id: str) -> IssueState:
        """Closed when the issue's state is of type completed or canceled, else open."""
        found = (await self._graphql(STATE, id=issue_id)).get("issue") or {}
        return "closed" if (found.get("state") or {}).get("type") in CLOSED_TYPES else "open"

    async def set_state(self, issue_id: str, state: IssueState) -> None:
        """Move the issue to the team's completed (closing) or unstarted (reopening) state, unless so already."""
        if await self.state_of(issue_id) == state:
            return
        states = (await self._team_info()).get("states", {}).get("nodes", [])
        wanted = ["completed"] if state == "closed" else ["unstarted", "backlog"]
        chosen = next(
            (s for kind in wanted for s in sorted(states, key=lambda s: s.get("position", 0)) if s.get("type") == kind),
            None,
        )
        if chosen is None:
            raise TrackerRefused("no_state")
        moved = (await self._graphql(UPDATE, id=issue_id, input={"stateId": chosen["id"]})).get("issueUpdate") or {}
        if not moved.get("success"):
            raise TrackerRefused("not_updated")

    async def check(self) -> list[str]:
        """One line: whom the key belongs to, whether the team is there, the states closing and reopening
        use, and the webhook secret."""
        where = f"linear {self.name} (team {self.team})"
        try:
            viewer = (await self._graphql(VIEWER)).get("viewer") or {}
        except TrackerError as exc:
            return [f"{where}: cannot sign in ({exc.reason})"]
        parts = [f"signed in as {viewer.get('name') or viewer.get('email') or viewer.get('id')}"]
        try:
            team = await self._team_info()
        except TrackerError as exc:
            return [f"{where}: {parts[0]}; cannot see the team ({exc.reason})"]
        kinds = {s.get("type") for s in team.get("states", {}).get("nodes", [])}
        parts.append("can create issues")
        parts.append("can close issues" if "completed" in kinds else "cannot close issues (no completed state)")
        reopen = kinds & {"unstarted", "backlog"}
        parts.append("can reopen issues" if reopen else "cannot reopen issues (no unstarted or backlog state)")
        parts.append("webhooks verified" if self.webhook_secret else "no webhook secret (polling only)")
        return [f"{where}: {'; '.join(parts)}"]

    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether `Linear-Signature` is the HMAC of the body and its `webhookTimestamp` within a minute."""
        signature = header(headers, "Linear-Signature")
        if not self.webhook_secret or not signature:
            return False
        expected = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.strip().lower(), expected):
            return False
        event = json_body(body)
        stamp = event.get("webhookTimestamp") if isinstance(event, dict) else None
        if not isinstance(stamp, int | float) or isinstance(stamp, bool):
            return False
        return abs(self.now() - stamp / 1000) <= REPLAY_WINDOW

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> IssueChange | None:
        """The issue's new state when an Issue `update` delivery changed its state (else None)."""
        event = json_body(body)
        if not isinstance(event, dict) or event.get("type") != "Issue" or event.get("action") != "update":
            return None
        data, before = event.get("data"), event.get("updatedFrom")
        if not isinstance(data, dict) or not data.get("id"):
            return None
        if isinstance(before, dict) and "stateId" not in before:
            return None  # an edit of something else
        kind = (data.get("state") or {}).get("type")
        if not isinstance(kind, str):
            return None
        issue_id = str(data["id"])
        delivery = header(headers, "Linear-Delivery") or f"{issue_id}@{event.get('webhookTimestamp')}"
        return IssueChange(issue_id=issue_id, state="closed" if kind in CLOSED_TYPES else "open", delivery_id=delivery)


def _errors(answer: Answer) -> list[dict[str, Any]]:
    errors = answer.body.get("errors") if isinstance(answer.body, dict) else None
    return [e for e in errors or [] if isinstance(e, dict)]


def _codes(answer: Answer) -> set[str]:
    """The `extensions.code`s of an answer's GraphQL errors."""
    return {str((e.get("extensions") or {}).get("code")) for e in _errors(answer)}


def build(name: str, config: LinearTracker, **common: Any) -> tuple[LinearIssues | None, list[str]]:
    """The adapter, or what is missing (its API key's variable unset)."""
    environ: Mapping[str, str] = common.pop("environ")
    key = environ.get(config.api_key_env, "")
    if not key:
        return None, [f"{config.api_key_env} is not set (the API key of trackers.{name})"]
    secret = environ.get(config.webhook_secret_env, "") if config.webhook_secret_env else ""
    return LinearIssues(
        name=name, team=config.team, api_key=key, api_url=config.api_url, webhook_secret=secret or None, **common
    ), []
