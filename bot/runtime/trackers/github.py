"""GitHub (and GitHub Enterprise Server) issues over the REST API.

Calls: `POST /repos/{owner}/{repo}/issues`, `PATCH /repos/{owner}/{repo}/issues/{number}` with `state`,
`GET` of the same; `Authorization: Bearer <token>`, `Accept: application/vnd.github+json` and
`X-GitHub-Api-Version`. Rate limits: an answer with `x-ratelimit-remaining: 0` means no call until
`x-ratelimit-reset` (epoch seconds); a 403 or 429 with `retry-after` (a secondary limit) means none for
that long; both are TrackerBusy, never a refusal. The owner is assigned when a GitHub user is found by
their Slack e-mail (only public e-mails are searchable); the body names them either way.

Webhooks: `X-GitHub-Event: issues`, actions `closed` and `reopened`, signed in `X-Hub-Signature-256`
(`sha256=` and the HMAC-SHA256 of the body under the webhook's secret); `X-GitHub-Delivery` is the
delivery's id.
"""

from __future__ import annotations

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
from bot.domain.tracker_policy import GithubTracker
from bot.runtime.trackers.base import Answer, TrackerClient, header, json_body, retry_after

API_VERSION = "2022-11-28"
ACTIONS: dict[str, IssueState] = {"closed": "closed", "reopened": "open"}


@dataclass(kw_only=True)
class GithubIssues(TrackerClient):
    """A repository's issues."""

    config: GithubTracker
    token: str = field(repr=False)

    @property
    def _config(self) -> GithubTracker:
        return self.config

    @property
    def _repo_url(self) -> str:
        return f"{self._config.api_url}/repos/{self._config.repo}"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }

    async def _call(self, method: str, url: str, **kwargs: Any) -> Answer:
        return await self.request(method, url, headers=self._headers(), **kwargs)

    async def create_issue(self, issue: NewIssue) -> IssueRef:
        """Open the issue (assigned to the owner when GitHub knows their e-mail)."""
        payload: dict[str, Any] = {"title": issue.title, "body": issue.body}
        if issue.labels:
            payload["labels"] = list(issue.labels)
        login = await self._login_of(issue.assignee_email) if issue.assignee_email else None
        if login:
            payload["assignees"] = [login]
        answer = await self._call("POST", f"{self._repo_url}/issues", json=payload)
        number = answer.body["number"]
        return IssueRef(id=str(number), key=f"#{number}", url=str(answer.body["html_url"]))

    async def _login_of(self, email: str) -> str | None:
        """The GitHub user with this public e-mail, if exactly one (a failed search assigns no one)."""
        try:
            answer = await self._call("GET", f"{self._config.api_url}/search/users", params={"q": f"{email} in:email"})
        except TrackerBusy:
            raise
        except TrackerError:
            return None
        items = answer.body.get("items", []) if isinstance(answer.body, dict) else []
        return str(items[0]["login"]) if len(items) == 1 else None

    async def set_state(self, issue_id: str, state: IssueState) -> None:
        """Close or reopen the issue."""
        await self._call("PATCH", f"{self._repo_url}/issues/{issue_id}", json={"state": state})

    async def state_of(self, issue_id: str) -> IssueState:
        """The issue's state now."""
        answer = await self._call("GET", f"{self._repo_url}/issues/{issue_id}")
        return "closed" if answer.body.get("state") == "closed" else "open"

    async def check(self) -> list[str]:
        """Whether the token reads the repository, may write its issues, and a webhook secret is set."""
        where = f"github {self.name} ({self._config.repo})"
        try:
            answer = await self._call("GET", self._repo_url)
        except TrackerError as exc:
            return [f"{where}: cannot read the repository ({exc.reason})"]
        body = answer.body if isinstance(answer.body, dict) else {}
        can_write = bool(body.get("permissions", {}).get("push") or body.get("permissions", {}).get("triage"))
        issues = "can create and close issues" if can_write and body.get("has_issues", True) else "cannot write issues"
        secret = "webhooks verified" if self.webhook_secret else "no webhook secret (polling only)"
        return [f"{where}: can read the repository; {issues}; {secret}"]

    def note_limits(self, answer: Answer) -> None:
        """`x-ratelimit-remaining: 0`: no call until `x-ratelimit-reset`."""
        remaining, reset = header(answer.headers, "x-ratelimit-remaining"), header(answer.headers, "x-ratelimit-reset")
        if remaining == "0" and reset is not None and reset.isdigit():
            self.block_for(int(reset) - self.now())
        if answer.status in (403, 429) and (wait := retry_after(answer.headers)) is not None:
            self.block_for(wait)

    def error_for(self, answer: Answer) -> TrackerBusy | TrackerRefused:
        """A 403 is a rate limit when the headers say so (primary or secondary), else a refusal."""
        limited = header(answer.headers, "x-ratelimit-remaining") == "0" or retry_after(answer.headers) is not None
        if answer.status in (403, 429) and limited:
            return TrackerBusy("rate_limited", retry_after=max(0.0, self.blocked_until - self.now()))
        return super().error_for(answer)

    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """`X-Hub-Signature-256` is the body's HMAC-SHA256 under the secret (no secret: nothing verifies)."""
        given = header(headers, "x-hub-signature-256") or ""
        if not self.webhook_secret or not given.startswith("sha256="):
            return False
        expected = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.removeprefix("sha256="), expected)

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> IssueChange | None:
        """An `issues` event closing or reopening an issue of this repository."""
        payload = json_body(body)
        if header(headers, "x-github-event") != "issues" or not isinstance(payload, dict):
            return None
        state = ACTIONS.get(str(payload.get("action")))
        repo = str((payload.get("repository") or {}).get("full_name", ""))
        number = (payload.get("issue") or {}).get("number")
        if state is None or number is None or repo.lower() != self._config.repo.lower():
            return None
        delivery = header(headers, "x-github-delivery") or f"{number}:{payload.get('action')}"
        return IssueChange(issue_id=str(number), state=state, delivery_id=delivery)


def build(name: str, config: GithubTracker, **common: Any) -> tuple[GithubIssues | None, list[str]]:
    """The adapter, or what is missing (its token's variable unset)."""
    environ: Mapping[str, str] = common.pop("environ")
    token = environ.get(config.token_env, "")
    if not token:
        return None, [f"{config.token_env} is not set (the token of trackers.{name})"]
    secret = environ.get(config.webhook_secret_env, "") if config.webhook_secret_env else ""
    return GithubIssues(name=name, config=config, token=token, webhook_secret=secret or None, **common), []
