"""GitLab (gitlab.com or self-managed) issues over REST v4.

Calls: `POST /api/v4/projects/{id}/issues`, `PUT /api/v4/projects/{id}/issues/{iid}` with `state_event`
`close` or `reopen`, `GET` of the same; the token in `PRIVATE-TOKEN`. The project is its numeric id or
its path (URL-encoded). A 429 is TrackerBusy, after `Retry-After` (or until `RateLimit-Reset`, epoch
seconds). Issues carry the follow-up's due date; the owner is assigned when a GitLab user is found by
their e-mail (the body names them either way).

Webhooks: `X-Gitlab-Event: Issue Hook`, `object_attributes.action` `close` or `reopen`; verified by
`X-Gitlab-Token` being the webhook's secret; `X-Gitlab-Event-UUID` is the delivery's id.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bot.domain.tracker_issues import (
    IssueChange,
    IssueRef,
    IssueState,
    NewIssue,
    TrackerBusy,
    TrackerError,
    TrackerRefused,
)
from bot.domain.tracker_policy import GitlabTracker
from bot.runtime.trackers.base import Answer, TrackerClient, header, json_body, retry_after

ACTIONS: dict[str, IssueState] = {"close": "closed", "reopen": "open"}
STATE_EVENTS: dict[IssueState, str] = {"closed": "close", "open": "reopen"}


@dataclass(kw_only=True)
class GitlabIssues(TrackerClient):
    """A project's issues."""

    config: GitlabTracker
    token: str = field(repr=False)

    @property
    def _project_url(self) -> str:
        return f"{self.config.url}/api/v4/projects/{quote(self.config.project, safe='')}"

    async def _call(self, method: str, url: str, **kwargs: Any) -> Answer:
        return await self.request(method, url, headers={"PRIVATE-TOKEN": self.token}, **kwargs)

    async def create_issue(self, issue: NewIssue) -> IssueRef:
        """Open the issue, with its due date and (when found) its assignee."""
        payload: dict[str, Any] = {"title": issue.title, "description": issue.body}
        if issue.labels:
            payload["labels"] = ",".join(issue.labels)
        if issue.due_on:
            payload["due_date"] = issue.due_on.isoformat()
        user = await self._user_of(issue.assignee_email) if issue.assignee_email else None
        if user is not None:
            payload["assignee_ids"] = [user]
        answer = await self._call("POST", f"{self._project_url}/issues", json=payload)
        iid = answer.body["iid"]
        return IssueRef(id=str(iid), key=f"#{iid}", url=str(answer.body["web_url"]))

    async def _user_of(self, email: str) -> int | None:
        """The GitLab user with this e-mail, if exactly one is found (a failed search assigns no one)."""
        try:
            answer = await self._call("GET", f"{self.config.url}/api/v4/users", params={"search": email})
        except TrackerBusy:
            raise
        except TrackerError:
            return None
        users = answer.body if isinstance(answer.body, list) else []
        return int(users[0]["id"]) if len(users) == 1 else None

    async def set_state(self, issue_id: str, state: IssueState) -> None:
        """Close or reopen the issue."""
        await self._call("PUT", f"{self._project_url}/issues/{issue_id}", json={"state_event": STATE_EVENTS[state]})

    async def state_of(self, issue_id: str) -> IssueState:
        """The issue's state now (GitLab says `opened` or `closed`)."""
        answer = await self._call("GET", f"{self._project_url}/issues/{issue_id}")
        return "closed" if answer.body.get("state") == "closed" else "open"

    async def check(self) -> list[str]:
        """Whether the token reads the project, may write its issues, and a webhook secret is set."""
        where = f"gitlab {self.name} ({self.config.project})"
        try:
            answer = await self._call("GET", self._project_url)
        except TrackerError as exc:
            return [f"{where}: cannot read the project ({exc.reason})"]
        body = answer.body if isinstance(answer.body, dict) else {}
        access = [(body.get("permissions") or {}).get(kind) or {} for kind in ("project_access", "group_access")]
        level = max((int(a.get("access_level", 0)) for a in access if isinstance(a, dict)), default=0)
        # Reporter (20) may create and close issues in most projects; Guest (10) only create them.
        issues = "can create and close issues" if level >= 20 else "may not close issues (needs Reporter or more)"
        secret = "webhooks verified" if self.webhook_secret else "no webhook secret (polling only)"
        return [f"{where}: can read the project; {issues}; {secret}"]

    def note_limits(self, answer: Answer) -> None:
        """A 429: no call for `Retry-After` seconds, or until `RateLimit-Reset`."""
        if answer.status != 429:
            return
        wait = retry_after(answer.headers)
        reset = header(answer.headers, "ratelimit-reset")
        if wait is None and reset is not None and reset.isdigit():
            wait = int(reset) - self.now()
        self.block_for(wait if wait is not None else 60.0)

    def error_for(self, answer: Answer) -> TrackerBusy | TrackerRefused:
        """A 429 waits as long as GitLab said."""
        if answer.status == 429:
            return TrackerBusy("rate_limited", retry_after=max(0.0, self.blocked_until - self.now()))
        return super().error_for(answer)

    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """`X-Gitlab-Token` is the webhook's secret (no secret: nothing verifies)."""
        given = header(headers, "x-gitlab-token") or ""
        return bool(self.webhook_secret) and hmac.compare_digest(given.encode(), (self.webhook_secret or "").encode())

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> IssueChange | None:
        """An `Issue Hook` closing or reopening an issue of this project."""
        payload = json_body(body)
        if header(headers, "x-gitlab-event") != "Issue Hook" or not isinstance(payload, dict):
            return None
        attributes = payload.get("object_attributes") or {}
        state = ACTIONS.get(str(attributes.get("action")))
        iid = attributes.get("iid")
        project = payload.get("project") or {}
        ours = self.config.project in (str(project.get("id")), str(project.get("path_with_namespace")))
        if state is None or iid is None or not ours:
            return None
        delivery = header(headers, "x-gitlab-event-uuid") or f"{iid}:{attributes.get('action')}"
        return IssueChange(issue_id=str(iid), state=state, delivery_id=delivery)


def build(name: str, config: GitlabTracker, **common: Any) -> tuple[GitlabIssues | None, list[str]]:
    """The adapter, or what is missing (its token's variable unset)."""
    environ: Mapping[str, str] = common.pop("environ")
    token = environ.get(config.token_env, "")
    if not token:
        return None, [f"{config.token_env} is not set (the token of trackers.{name})"]
    secret = environ.get(config.webhook_secret_env, "") if config.webhook_secret_env else ""
    return GitlabIssues(name=name, config=config, token=token, webhook_secret=secret or None, **common), []
