"""The policy's `trackers:` and `follow_ups:` sections: where follow-ups become issues (GitHub, GitLab,
Jira, Linear), and whether automatically or from a button.

Each tracker is one of four kinds, told apart by `kind:`; each kind has its own keys. Secrets are never in
the policy: only the names of the environment variables holding them (`*_env`). `labels` maps a severity
name to the labels an issue made for an incident of that severity carries. `private: true` allows the
tracker to receive follow-ups of private incidents; no other tracker hears anything about them.

Pure: `tracker_problems(policy)` lists the cross-references that do not resolve (for `tocsin check`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from bot.domain.policy import Policy

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError("must be the name of an environment variable (letters, digits and _)")
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def per_severity(named: dict[str, list[str]], severity: str) -> tuple[str, ...]:
    """What a severity-keyed setting gives `severity` (keys matched without regard to case)."""
    return next((tuple(values) for name, values in named.items() if name.upper() == severity.upper()), ())


class _TrackerBase(BaseModel):
    """What every kind has: labels per severity and whether private incidents may go there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: dict[str, list[str]] = Field(default_factory=dict)  # severity name -> labels
    private: bool = False  # allowed for private incidents' follow-ups
    webhook_secret_env: str | None = None  # the secret inbound webhooks are verified with

    @field_validator("webhook_secret_env")
    @classmethod
    def _secret_env(cls, value: str | None) -> str | None:
        return _env_name(value)

    def components_for(self, severity: str) -> tuple[str, ...]:
        """Components for an incident of this severity: only Jira has them."""
        return ()

    def labels_for(self, severity: str) -> tuple[str, ...]:
        """The labels for an incident of this severity (matched without regard to case)."""
        return per_severity(self.labels, severity)


class GithubTracker(_TrackerBase):
    """A GitHub (or GitHub Enterprise Server) repository's issues."""

    kind: Literal["github"]
    repo: str  # owner/name
    token_env: str
    api_url: str = "https://api.github.com"  # GHES: https://github.example.com/api/v3

    @field_validator("repo")
    @classmethod
    def _owner_name(cls, value: str) -> str:
        if not _REPO.match(value):
            raise ValueError("must be owner/name")
        return value

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str) -> str:
        return _env_name(value) or value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _http_url(value)


class GitlabTracker(_TrackerBase):
    """A GitLab project's issues (gitlab.com or self-managed)."""

    kind: Literal["gitlab"]
    project: str  # the numeric ID or the path (group/project)
    url: str = "https://gitlab.com"
    token_env: str

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str) -> str:
        return _env_name(value) or value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class JiraTracker(_TrackerBase):
    """A Jira Cloud project (REST v3, descriptions in Atlassian Document Format)."""

    kind: Literal["jira"]
    url: str  # the site, e.g. https://example.atlassian.net
    project: str  # the project key, e.g. OPS
    issue_type: str = "Task"
    email_env: str  # the API token's account e-mail
    token_env: str
    components: dict[str, list[str]] = Field(default_factory=dict)  # severity name -> components

    def components_for(self, severity: str) -> tuple[str, ...]:
        """The components for an incident of this severity (matched without regard to case)."""
        return per_severity(self.components, severity)

    @field_validator("email_env", "token_env")
    @classmethod
    def _envs(cls, value: str) -> str:
        return _env_name(value) or value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class LinearTracker(_TrackerBase):
    """A Linear team's issues (GraphQL)."""

    kind: Literal["linear"]
    team: str  # the team's key (e.g. ENG) or ID
    api_key_env: str
    api_url: str = "https://api.linear.app/graphql"

    @field_validator("api_key_env")
    @classmethod
    def _key_env(cls, value: str) -> str:
        return _env_name(value) or value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _http_url(value)


TrackerConfig = Annotated[
    GithubTracker | GitlabTracker | JiraTracker | LinearTracker,
    Field(discriminator="kind"),
]


class FollowUpsPolicy(BaseModel):
    """Which tracker follow-ups go to by default, and whether an issue is made for each at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracker: str | None = None
    create: Literal["auto", "button"] = "button"


Trackers = dict[str, TrackerConfig]


def tracker_problems(policy: Policy) -> list[str]:
    """The tracker names the policy uses that are not configured under `trackers:`."""
    problems: list[str] = []
    known = policy.trackers
    if policy.follow_ups.tracker is not None and policy.follow_ups.tracker not in known:
        problems.append(f"follow_ups.tracker: unknown tracker {policy.follow_ups.tracker!r}")
    for name, service in policy.services.items():
        if service.tracker is not None and service.tracker not in known:
            problems.append(f"services.{name}.tracker: unknown tracker {service.tracker!r}")
    return problems


def tracker_for(policy: Policy, services: tuple[str, ...] | list[str], *, private: bool) -> str | None:
    """Which tracker an incident's follow-ups go to: its first service naming one, else the default —
    and for a private incident only if that tracker is marked `private: true` (None: stay in Tocsin)."""
    name = next(
        (policy.services[s].tracker for s in services if s in policy.services and policy.services[s].tracker),
        policy.follow_ups.tracker,
    )
    if name is None or name not in policy.trackers:
        return None
    if private and not policy.trackers[name].private:
        return None
    return name
