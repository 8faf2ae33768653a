"""Which call bridge an incident gets, and the URLs Tocsin makes for one. Pure.

The most specific setting wins: the incident's type, then its service, then its severity, then the
policy's own `bridge:`. A Jitsi room's name is unguessable (96 random bits from `secrets`), so only
those the link reaches can join it.
"""

from __future__ import annotations

import re
import secrets

from bot.domain.context_policy import MAX_BRIDGE_URL, BridgePolicy
from bot.domain.errors import UserError
from bot.domain.policy import Policy

_HTTP_URL = re.compile(r"^https?://[^\s<>|\"']+$", re.IGNORECASE)
ROOM_RANDOM_BYTES = 12  # 96 bits: no one finds the room by guessing


def bridge_for(policy: Policy, *, incident_type: str | None, service: str | None, severity: str) -> BridgePolicy | None:
    """The bridge setting that applies to an incident: type over service over severity over the policy."""
    kind = policy.types.get(incident_type) if incident_type else None
    by_type: BridgePolicy | None = getattr(kind, "bridge", None) if kind is not None else None
    by_service = policy.services[service].bridge if service and service in policy.services else None
    named = policy.severity_named(severity)
    by_severity = named.bridge if named is not None else None
    return by_type or by_service or by_severity or policy.bridge


def jitsi_room(server: str, reference: str, *, token: str | None = None) -> str:
    """A new Jitsi room on `server` for an incident: its reference and a random part (`token`, for tests)."""
    random_part = token if token is not None else secrets.token_hex(ROOM_RANDOM_BYTES)
    return f"{server.rstrip('/')}/Tocsin-{reference}-{random_part}"


def check_bridge_url(text: str) -> str:
    """A bridge URL someone typed (`/incident bridge <url>`): an http(s) URL; UserError otherwise."""
    url = text.strip().strip("<>").split("|", 1)[0]  # Slack wraps typed links: <https://…> or <https://…|label>
    if not url or len(url) > MAX_BRIDGE_URL or not _HTTP_URL.match(url):
        raise UserError(
            "Give the call's link as an http(s) URL, e.g. `/incident bridge https://meet.example.com/war-room`."
        )
    return url
