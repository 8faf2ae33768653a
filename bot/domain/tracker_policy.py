"""The policy's `trackers:` and `follow_ups:` sections: where follow-ups become issues (GitHub, GitLab,
Jira, Linear), and whether automatically or from a button."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class TrackerConfig(BaseModel):
    """One tracker (the keys each kind needs are checked by the tracker's own adapter)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: Literal["github", "gitlab", "jira", "linear"]


class FollowUpsPolicy(BaseModel):
    """Which tracker follow-ups go to by default, and whether an issue is made for each at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracker: str | None = None
    create: Literal["auto", "button"] = "button"


Trackers = dict[str, TrackerConfig]
