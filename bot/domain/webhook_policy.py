"""The policy's `webhooks:` section: where Tocsin sends signed events, which kinds, and with whose secret."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebhookTarget(BaseModel):
    """One receiver of outgoing webhooks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    events: list[str] = Field(min_length=1)  # event kinds, e.g. incident.declared
    secret_env: str  # the environment variable holding the `whsec_<base64>` signing secret
    include_private: bool = False  # false: nothing about a private incident is ever sent
