"""The policy's `webhooks:` section: where Tocsin sends signed events, which kinds, and with whose secret.

Pure. A target's URL is refused when it could only reach the machine's own cloud metadata service or a
link-local neighbour (server-side request forgery): an IP literal in 169.254.0.0/16, fe80::/10,
fd00:ec2::254 (written in any of the forms a resolver accepts), or a host named like a metadata service.
A name that only resolves to such an address is refused when it is sent to (bot/runtime/webhook_sender.py
asks `forbidden_address` about every address a name resolves to).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import socket
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from bot.domain.events import EventKind

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every such secret starts with, not a secret
# Standard Webhooks: a secret is 24 to 64 random bytes, written `whsec_` + base64.
SECRET_BYTES = (24, 64)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORBIDDEN_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: AWS, GCP, Azure, Oracle… metadata at .169.254
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS's metadata service over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud's metadata service
)
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
    }
)


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is link-local or a cloud metadata service's (an IPv4-mapped IPv6 one too)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _FORBIDDEN_NETWORKS)


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as an IP literal means (also `2852039166`, `0xa9.254.169.254`…, which
    resolvers accept for IPv4); None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone (`fe80::1%eth0`) is still link-local
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook target, or None when it can."""
    if url != url.strip() or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "must be a URL without spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number in 0-65535 raises
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http://)"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "must name a host (https://host/path)"
    address = _literal(host)
    if address is not None and forbidden_address(address):
        return f"{host} is a link-local or cloud metadata address, where Tocsin never sends webhooks"
    if host.lower() in METADATA_HOSTS:
        return f"{host} is a cloud metadata service, where Tocsin never sends webhooks"
    return None


def secret_problem(value: str) -> str | None:
    """Why `value` (an environment variable's) is not a Standard Webhooks secret, or None when it is (never
    quoting the value); empty is "is not set"."""
    if not value:
        return "is not set"
    if not value.startswith(SECRET_PREFIX):
        return f"is not a Standard Webhooks secret: it must start with {SECRET_PREFIX}"
    try:
        written = value.removeprefix(SECRET_PREFIX)
        key = base64.b64decode(
            written + "=" * (-len(written) % 4), validate=True
        )  # padding optional, as signers read it
    except (binascii.Error, ValueError):
        return f"is not a Standard Webhooks secret: what follows {SECRET_PREFIX} must be base64"
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        return f"is not a Standard Webhooks secret: it must encode {low} to {high} bytes (it has {len(key)})"
    return None


def host_of(url: str) -> str:
    """Where a target is, as logs and messages name it: scheme, host and port, never the path or query
    (a receiver's URL may carry a token in them) or a user and password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"


def _known_kinds(kinds: list[str]) -> list[str]:
    # The list is at fault, not the item: `tocsin check` can set the list aside and check the rest.
    unknown = [kind for kind in kinds if kind not in {k.value for k in EventKind}]
    if unknown:
        known = ", ".join(k.value for k in EventKind)
        named = ", ".join(repr(kind) for kind in unknown)
        raise ValueError(
            f"{named} {'is not an event kind' if len(unknown) == 1 else 'are not event kinds'} (the kinds are: {known})"
        )
    return kinds


class WebhookTarget(BaseModel):
    """One receiver of outgoing webhooks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    events: Annotated[list[str], AfterValidator(_known_kinds)] = Field(min_length=1)  # e.g. incident.declared
    secret_env: str  # the environment variable holding the `whsec_<base64>` signing secret
    include_private: bool = False  # false: nothing about a private incident is ever sent

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("secret_env")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        if value.startswith(SECRET_PREFIX):  # the secret itself, pasted in: never repeated in the message
            raise ValueError(
                "names the environment variable that holds the secret (the secret itself belongs in that "
                "variable, not in the policy file)"
            )
        if not _ENV_NAME.match(value):
            raise ValueError(
                "must be an environment variable's name (letters, digits and _, not starting with a digit)"
            )
        return value

    @property
    def kinds(self) -> frozenset[EventKind]:
        """The event kinds this receiver wants."""
        return frozenset(EventKind(kind) for kind in self.events)

    @property
    def name(self) -> str:
        """Its event-log subscriber's name: stable while the URL is (changing `events` keeps its backlog),
        and naming nothing of the URL, which may hold a token."""
        return "webhook-" + hashlib.sha256(self.url.encode()).hexdigest()[:12]


def _distinct_urls(targets: list[WebhookTarget]) -> list[WebhookTarget]:
    seen: dict[str, int] = {}
    for number, target in enumerate(targets):
        if target.url in seen:
            raise ValueError(
                f"[{seen[target.url]}] and [{number}] have the same url: give a receiver one entry, listing "
                "every event kind it wants"
            )
        seen[target.url] = number
    return targets


# The section as the policy holds it: targets with distinct URLs (each URL is one subscriber).
WebhookTargets = Annotated[list[WebhookTarget], AfterValidator(_distinct_urls)]
