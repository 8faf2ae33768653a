"""The policy's `status_page:` section: the public status page's title, how each severity shows on a
component, who may publish, and an optional mirror to an Atlassian Statuspage page."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.user_refs import grant_problems

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class ComponentState(StrEnum):
    """How a component is doing, in Atlassian Statuspage's words (mildest first)."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def rank(self) -> int:
        """0 for operational, 3 for a major outage: the worse state is the higher rank."""
        return list(ComponentState).index(self)

    @property
    def label(self) -> str:
        """The state as customers read it."""
        return self.value.replace("_", " ").capitalize()


class StatuspageMirrorPolicy(BaseModel):
    """Mirror every public update to an Atlassian Statuspage page through its REST API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    api_key_env: str = "STATUSPAGE_API_KEY"  # the environment variable holding the API key
    api_url: str = "https://api.statuspage.io"
    # A Tocsin service → its component on the Statuspage page: the incident's components are set there too.
    components: dict[str, str] = Field(default_factory=dict)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (e.g. STATUSPAGE_API_KEY)")
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://api.statuspage.io")
        return value.rstrip("/")


def _default_states() -> dict[str, ComponentState]:
    return {
        "SEV1": ComponentState.MAJOR_OUTAGE,
        "SEV2": ComponentState.PARTIAL_OUTAGE,
        "SEV3": ComponentState.DEGRADED_PERFORMANCE,
    }


class StatusPagePolicy(BaseModel):
    """The public status page (services marked `status_page: true` are its components)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "Service status"
    # A severity's open public incident shows its components as: operational, degraded_performance,
    # partial_outage or major_outage. Severities not named show as degraded_performance.
    component_states: dict[str, ComponentState] = Field(default_factory=_default_states)
    # Who may publish an incident's updates (`/incident update --public`): as the policy's permissions.
    publish: list[str] = Field(default_factory=lambda: ["incident_commander", "comms_lead", "admins"])
    statuspage: StatuspageMirrorPolicy | None = None

    def problems(
        self, *, severity_known: Callable[[str], bool], roles: Collection[str], services: Collection[str]
    ) -> list[str]:
        """What refers to nothing in the rest of the policy (the whole policy's check lists these)."""
        named = self.component_states if "component_states" in self.model_fields_set else {}  # not the defaults
        found = [
            f"status_page.component_states: {name!r} is not a severity" for name in named if not severity_known(name)
        ]
        found += grant_problems("status_page.publish", self.publish, roles)
        mapped = self.statuspage.components if self.statuspage is not None else {}
        found += [
            f"status_page.statuspage.components: unknown service {name!r}" for name in mapped if name not in services
        ]
        return found

    def state_for(self, severity: str) -> ComponentState:
        """How an open public incident of `severity` shows its components."""
        wanted = severity.strip().upper()
        named = {name.strip().upper(): state for name, state in self.component_states.items()}
        return named.get(wanted, ComponentState.DEGRADED_PERFORMANCE)
