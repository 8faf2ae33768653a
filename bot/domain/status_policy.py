"""The policy's `status_page:` section: the public status page's title, how each severity shows on a
component, and an optional mirror to an Atlassian Statuspage page."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StatusPagePolicy(BaseModel):
    """The public status page (services marked `status_page: true` are its components)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "Service status"
    # A severity's open public incident shows its components as: operational, degraded_performance,
    # partial_outage or major_outage. Severities not named show as degraded_performance.
    component_states: dict[str, str] = Field(default_factory=dict)
