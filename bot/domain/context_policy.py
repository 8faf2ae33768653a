"""The policy's channel context: the call bridge (`bridge:`, also per service, severity and type) and how
long after its postmortem an incident's channel is archived (`archive_after:`). Pure."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy

JITSI_DEFAULT = "https://meet.jit.si"
ZOOM_API_DEFAULT = "https://api.zoom.us"
ZOOM_OAUTH_DEFAULT = "https://zoom.us"
MAX_BRIDGE_URL = 500  # the incident's bridge_url column
_HTTP_URL = re.compile(r"^https?://[^\s<>|\"']+$", re.IGNORECASE)
_ZOOM_KEYS = ("account_id_env", "client_id_env", "client_secret_env", "api_url", "oauth_url", "host")


class BridgePolicy(StrictModel):
    """Where an incident's call is: a fixed URL (`static`), a generated Jitsi room (`jitsi`; `url`: the Jitsi
    server), or a Zoom meeting made through Zoom's Server-to-Server OAuth API (`zoom`; its credentials read
    from the environment variables named here)."""

    kind: Literal["static", "jitsi", "zoom"]
    url: str | None = None
    account_id_env: str = "ZOOM_ACCOUNT_ID"
    client_id_env: str = "ZOOM_CLIENT_ID"
    client_secret_env: str = "ZOOM_CLIENT_SECRET"  # noqa: S105 - a variable's name
    api_url: str = ZOOM_API_DEFAULT
    oauth_url: str = ZOOM_OAUTH_DEFAULT
    host: str = "me"  # the Zoom user who hosts the meetings (an e-mail or user ID; `me`: the app's owner)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> BridgePolicy:
        if self.kind == "static" and not self.url:
            raise ValueError("a static bridge needs its url, e.g. https://meet.example.com/incidents")
        if self.kind == "zoom" and self.url is not None:
            raise ValueError("a zoom bridge makes its own meetings: give api_url/oauth_url, not url")
        if self.kind != "zoom" and (extra := [k for k in _ZOOM_KEYS if k in self.model_fields_set]):
            raise ValueError(f"{', '.join(extra)}: only a zoom bridge has these keys")
        for name in ("url", "api_url", "oauth_url"):
            value = getattr(self, name)
            if value is not None and (len(value) > MAX_BRIDGE_URL or not _HTTP_URL.match(value)):
                raise ValueError(f"{name}: {value[:60]!r} is not an http(s) URL")
        return self

    @property
    def jitsi_server(self) -> str:
        """The Jitsi server rooms are made on (its base URL, without a trailing slash)."""
        return (self.url or JITSI_DEFAULT).rstrip("/")


def problems(policy: Policy) -> list[str]:
    """What in the policy's bridge and archive_after cannot work with the rest of the policy."""
    found: list[str] = []
    if policy.archive_after is not None and policy.archive_after <= timedelta(0):
        found.append("archive_after: must be longer than 0s (leave it out to keep channels open)")
    return found
