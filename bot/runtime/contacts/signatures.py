"""Twilio's request signature (`X-Twilio-Signature`), computed and checked as Twilio documents it.

The signed string is the full URL Twilio requested (query string included) followed, for a form-encoded
POST, by every parameter's name and value, sorted by name (a repeated name's distinct values sorted
too), with no separators; the signature is the Base64 of its HMAC-SHA1 under the account's auth token. Twilio may sign
the URL with or without the scheme's port (behind a proxy, it is not always the one the app sees), so a
request is valid when either form matches, as Twilio's own helper libraries check it. Comparison is in
constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Any] | None = None) -> str:
    """The `X-Twilio-Signature` Twilio sends for a request to `url` with these form parameters."""
    signed = url + "".join(f"{name}{value}" for name, value in _sorted_pairs(params or {}))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(auth_token: str, url: str, params: Mapping[str, Any], signature: str) -> bool:
    """Whether `signature` is Twilio's for this URL and these parameters (the URL with or without its
    scheme's port)."""
    if not signature:
        return False
    given = signature.encode()
    try:
        candidates = {_without_port(url), _with_port(url)}
    except ValueError:  # not a URL with a valid port: Twilio signed no such request
        return False
    # every candidate is compared, so the time taken does not tell which one was close
    matches = [hmac.compare_digest(twilio_signature(auth_token, u, params).encode(), given) for u in candidates]
    return any(matches)


def _sorted_pairs(params: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Every (name, value), sorted by name then value; a multidict's repeated names keep their distinct values."""
    getall = getattr(params, "getall", None)
    for name in sorted(set(params)):
        values = getall(name) if getall is not None else [params[name]]
        values = values if isinstance(values, list) else [values]
        for value in sorted({str(v) for v in values}):
            yield name, value


def _with_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None or parts.scheme not in DEFAULT_PORTS:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{DEFAULT_PORTS[parts.scheme]}"))


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = hostport.rsplit(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}" if userinfo else host))
