"""Jira Cloud as a tracker (the `Tracker` port of bot/usecases/tracker_ports.py), over its REST API v3.

- Issues are made with `POST /rest/api/3/issue`: the project key, the issue type by name, the summary,
  the description in Atlassian Document Format (bot/runtime/trackers/adf.py; Jira refuses a plain
  string there), the due date, labels (Jira's may hold no spaces) and the assignee, by the account ID
  `GET /rest/api/3/user/search?query=<e-mail>` finds when it finds exactly one user.
- Closing and reopening is a workflow transition: `GET /rest/api/3/issue/{id}/transitions` lists those
  possible now, and the one chosen leads to a status of category `done` (closing) or `new` — "To Do" —
  (reopening; failing that, any status not done). The state is `fields.status.statusCategory.key`.
- Auth is Basic with the account's e-mail and an API token. 401/403 → TrackerRefused; 429 (with
  `Retry-After`, seconds) and 5xx → TrackerBusy; no answer → TrackerUnreachable. Jira's error body
  `{"errorMessages": [...], "errors": {field: message}}` is added to the exception as a note.
- Inbound: an admin webhook (System → WebHooks) with a secret is signed `X-Hub-Signature:
  sha256=<hex HMAC-SHA256 of the raw body>`; `jira:issue_updated` with a `status` item in its changelog
  is a state change; `X-Atlassian-Webhook-Identifier` identifies the delivery (the same on a retry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from bot.domain.tracker_policy import JiraTracker
from bot.runtime.trackers.adf import from_markdown
from bot.runtime.trackers.base import Answer, TrackerClient, header, json_body, retry_after

SUMMARY_AT_MOST = 255  # characters Jira allows in a summary


@dataclass(kw_only=True)
class JiraCloud(TrackerClient):
    """One Jira Cloud project as a tracker (`url` the site, `project` its key)."""

    url: str
    project: str
    email: str = field(repr=False)
    token: str = field(repr=False)
    issue_type: str = "Task"

    def __post_init__(self) -> None:
        """The site without a trailing slash."""
        self.url = self.url.rstrip("/")

    async def _call(self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None) -> Any:
        """One REST call with Basic auth; its JSON answer, or the TrackerError it means."""
        secret = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        headers = {"Authorization": f"Basic {secret}", "Accept": "application/json"}
        extra: dict[str, Any] = {"allow_redirects": False}
        if body is not None:
            extra["json"] = body
        if params:
            extra["params"] = params
        answer = await self.request(method, f"{self.url}{path}", headers=headers, **extra)
        return answer.body

    def note_limits(self, answer: Answer) -> None:
        """After a 429, call nothing until its `Retry-After` has passed."""
        if answer.status == 429:
            self.block_for(retry_after(answer.headers) or 0.0)

    def error_for(self, answer: Answer) -> TrackerBusy | TrackerRefused:
        """The base mapping (a 400 is `invalid_request`), with Jira's own messages as a note."""
        error = TrackerRefused("invalid_request") if answer.status == 400 else super().error_for(answer)
        messages: list[str] = []
        if isinstance(answer.body, dict):
            messages = [str(m) for m in answer.body.get("errorMessages") or []]
            fields = answer.body.get("errors") or {}
            if isinstance(fields, dict):
                messages += [f"{name}: {message}" for name, message in fields.items()]
        if messages:
            error.add_note("Jira said: " + "; ".join(messages)[:500])
        return error

    async def _account_id(self, email: str) -> str | None:
        """The account ID of the one user `email` finds (None: none, or several)."""
        try:
            users = await self._call("GET", "/rest/api/3/user/search", params={"query": email})
        except TrackerRefused:  # no "Browse users and groups" permission: the body names the owner
            return None
        if isinstance(users, list) and len(users) == 1 and isinstance(users[0], dict):
            account = users[0].get("accountId")
            return str(account) if account else None
        return None

    async def create_issue(self, issue: NewIssue) -> IssueRef:
        """Make the issue (assigned when its owner's e-mail finds exactly one Jira user)."""
        fields: dict[str, Any] = {
            "project": {"key": self.project},
            "issuetype": {"name": self.issue_type},
            "summary": " ".join(issue.title.split())[:SUMMARY_AT_MOST],
            "description": from_markdown(issue.body),
        }
        if issue.labels:
            fields["labels"] = ["-".join(label.split()) for label in issue.labels]
        if issue.components:
            fields["components"] = [{"name": component} for component in issue.components]
        if issue.due_on is not None:
            fields["duedate"] = issue.due_on.isoformat()
        if issue.assignee_email:
            account = await self._account_id(issue.assignee_email)
            if account is not None:
                fields["assignee"] = {"accountId": account}
        made = await self._call("POST", "/rest/api/3/issue", body={"fields": fields})
        if not isinstance(made, dict) or "id" not in made or "key" not in made:
            raise TrackerBusy("bad_answer")
        key = str(made["key"])
        return IssueRef(id=str(made["id"]), key=key, url=f"{self.url}/browse/{key}")

    async def state_of(self, issue_id: str) -> IssueState:
        """Closed when the issue's status is in the `done` category, else open."""
        found = await self._call("GET", f"/rest/api/3/issue/{issue_id}", params={"fields": "status"})
        return "closed" if _category(found) == "done" else "open"

    async def set_state(self, issue_id: str, state: IssueState) -> None:
        """Move the issue to a done (closing) or to-do (reopening) status, unless it is so already."""
        if await self.state_of(issue_id) == state:
            return
        listed = await self._call("GET", f"/rest/api/3/issue/{issue_id}/transitions")
        transitions = [t for t in (listed or {}).get("transitions", []) if isinstance(t, dict)]
        wanted = ["done"] if state == "closed" else ["new", "indeterminate"]
        chosen = next((t for category in wanted for t in transitions if _leads_to(t) == category), None)
        if chosen is None:
            raise TrackerRefused("no_transition")
        await self._call(
            "POST", f"/rest/api/3/issue/{issue_id}/transitions", body={"transition": {"id": str(chosen["id"])}}
        )

    async def check(self) -> list[str]:
        """One line: whom the credentials sign in as, the project, what they may do there, the webhook secret."""
        where = f"jira {self.name} ({self.project} at {self.url})"
        try:
            me = await self._call("GET", "/rest/api/3/myself") or {}
        except TrackerError as exc:
            return [f"{where}: cannot sign in ({exc.reason})"]
        parts = [f"signed in as {me.get('displayName') or me.get('accountId')}"]
        wanted = {"CREATE_ISSUES": "create issues", "TRANSITION_ISSUES": "close and reopen issues"}
        wanted["ASSIGN_ISSUES"] = "assign issues"
        try:
            await self._call("GET", f"/rest/api/3/project/{self.project}")
            params = {"projectKey": self.project, "permissions": ",".join(wanted)}
            granted = (await self._call("GET", "/rest/api/3/mypermissions", params=params) or {}).get("permissions", {})
        except TrackerError as exc:
            return [f"{where}: {parts[0]}; cannot see the project ({exc.reason})"]
        for key, what in wanted.items():
            parts.append(f"{'can' if (granted.get(key) or {}).get('havePermission') else 'cannot'} {what}")
        parts.append("webhooks verified" if self.webhook_secret else "no webhook secret (polling only)")
        return [f"{where}: {'; '.join(parts)}"]

    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether `X-Hub-Signature` is `sha256=` the HMAC of the body with the webhook secret."""
        signature = header(headers, "X-Hub-Signature")
        if not self.webhook_secret or not signature or not signature.startswith("sha256="):
            return False
        expected = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.removeprefix("sha256=").strip().lower(), expected)

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> IssueChange | None:
        """The issue's new state when an `jira:issue_updated` delivery changed its status (else None)."""
        event = json_body(body)
        if not isinstance(event, dict) or event.get("webhookEvent") != "jira:issue_updated":
            return None
        items = (event.get("changelog") or {}).get("items") or []
        if not any(isinstance(i, dict) and "status" in (i.get("field"), i.get("fieldId")) for i in items):
            return None
        issue = event.get("issue") or {}
        if not isinstance(issue, dict) or not issue.get("id"):
            return None
        issue_id = str(issue["id"])
        delivery = header(headers, "X-Atlassian-Webhook-Identifier") or f"{issue_id}@{event.get('timestamp')}"
        state: IssueState = "closed" if _category(issue) == "done" else "open"
        return IssueChange(issue_id=issue_id, state=state, delivery_id=delivery)


def _leads_to(transition: dict[str, Any]) -> str | None:
    """The status category a transition leads to."""
    return _category({"fields": {"status": transition.get("to")}})


def _category(issue: Any) -> str | None:
    """`fields.status.statusCategory.key` of an issue (or a transition's target wrapped like one)."""
    if not isinstance(issue, dict):
        return None
    status = (issue.get("fields") or {}).get("status") or {}
    category = status.get("statusCategory") or {} if isinstance(status, dict) else {}
    key = category.get("key") if isinstance(category, dict) else None
    return str(key) if key is not None else None


def build(name: str, config: JiraTracker, **common: Any) -> tuple[JiraCloud | None, list[str]]:
    """The adapter, or what is missing (its e-mail's or token's variable unset)."""
    environ: Mapping[str, str] = common.pop("environ")
    email, token = environ.get(config.email_env, ""), environ.get(config.token_env, "")
    missing = [
        f"{variable} is not set (the {what} of trackers.{name})"
        for variable, what, value in ((config.email_env, "e-mail", email), (config.token_env, "API token", token))
        if not value
    ]
    if missing:
        return None, missing
    secret = environ.get(config.webhook_secret_env, "") if config.webhook_secret_env else ""
    return JiraCloud(
        name=name,
        url=config.url,
        project=config.project,
        issue_type=config.issue_type,
        email=email,
        token=token,
        webhook_secret=secret or None,
        **common,
    ), []
