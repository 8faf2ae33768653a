"""What every contact provider's client shares: the error a failed send raises (ContactError: retryable or
not, a short reason, the provider's delay when it gave one), what a send returns (Sent), what a page says
(Notice), credentials read from the environment by the variable's name, and one HTTP call over the
process's session with a 10-second timeout.

Errors never carry a secret, an address or a provider's free text (which often repeats the number or
topic): only the provider, a machine word, the provider's error code and the HTTP status."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.runtime.version import VERSION

TIMEOUT = aiohttp.ClientTimeout(total=10)
READ_AT_MOST = 256 * 1024  # of an answer's body: every provider's answer is a small JSON object
USER_AGENT = f"tocsin/{VERSION}"


class ContactError(Exception):
    """A send that failed. `retryable`: the same send may work later (5xx, 429, timeouts, connection
    errors); `reason`: a short machine word (unauthorized, forbidden, invalid, rate_limited, server_error,
    unreachable, missing_credential, …); `retry_after`: seconds the provider asked to wait, if it said."""

    def __init__(
        self,
        provider: str,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        code: int | str | None = None,
        status: int | None = None,
    ) -> None:
        """One line naming the provider, the reason and, when known, the provider's code and HTTP status."""
        self.provider = provider
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code
        self.status = status
        details = [f"code {code}"] if code is not None else []
        details += [f"HTTP {status}"] if status is not None else []
        details += [f"retry after {retry_after:g}s"] if retry_after is not None else []
        super().__init__(f"{provider}: {reason}" + (f" ({', '.join(details)})" if details else ""))


class MissingCredential(ContactError):
    """A credential's environment variable is unset or empty (its name is in the message, never a value)."""

    def __init__(self, provider: str, variable: str) -> None:
        """Name the variable."""
        super().__init__(provider, "missing_credential", retryable=False)
        self.variable = variable
        self.args = (f"{provider}: the environment variable {variable} is not set",)


@dataclass(frozen=True, slots=True)
class Sent:
    """A send the provider accepted: its id for it (Twilio SID, ntfy message id, Pushover receipt or
    request id, the e-mail's Message-ID)."""

    provider_id: str


@dataclass(frozen=True, slots=True)
class Notice:
    """What a page says, in plain text (each client formats it for its provider): `ack_url` acknowledges
    the page, `link` (optional) opens the incident."""

    title: str
    body: str
    ack_url: str | None
    severity: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A provider's HTTP answer: its status, headers and JSON body (None when it was not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


def credential(environ: Mapping[str, str], variable: str, provider: str) -> str:
    """The value of `variable`; MissingCredential when it is unset or blank."""
    value = environ.get(variable, "").strip()
    if not value:
        raise MissingCredential(provider, variable)
    return value


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Answer:
    """Make one HTTP call and read its answer; ContactError(unreachable, retryable) when none came.
    The caller maps a non-2xx answer to the provider's error."""
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        async with session.request(method, url, headers=sent, timeout=TIMEOUT, **kwargs) as response:
            raw = await response.content.read(READ_AT_MOST)
            return Answer(response.status, dict(response.headers), _json(raw))
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        # the exception's text names the URL, which can hold a topic or an account: only its kind is kept
        raise ContactError(provider, "unreachable", retryable=True) from exc


def http_error(
    provider: str, answer: Answer, *, code: int | str | None = None, reason: str | None = None
) -> ContactError:
    """The ContactError a non-2xx answer means: 429 rate_limited, 408/5xx server_error (both retryable,
    with `Retry-After` when sent); 401 unauthorized, 403 forbidden, 404 not_found, other 4xx invalid."""
    status = answer.status
    if status == 429:
        return ContactError(
            provider,
            reason or "rate_limited",
            retryable=True,
            retry_after=retry_after(answer.headers),
            code=code,
            status=status,
        )
    if status >= 500 or status == 408:
        return ContactError(
            provider,
            reason or "server_error",
            retryable=True,
            retry_after=retry_after(answer.headers),
            code=code,
            status=status,
        )
    default = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "invalid")
    return ContactError(provider, reason or default, retryable=False, code=code, status=status)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds (the delta form; an HTTP date is taken as a minute); None when absent."""
    value = header(headers, "Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 60.0


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever its case (None when absent)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
