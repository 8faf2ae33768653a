"""What every tracker adapter shares: one HTTP session (the process's), a timeout, and the mapping of
answers to the tracker errors (bot/domain/tracker_issues.py): no answer is TrackerUnreachable; a rate
limit or a 5xx is TrackerBusy (with `retry_after` when the tracker said); any other refusal is
TrackerRefused, which is not retried. A tracker that said "no more calls until T" is not called before T
(each call raises TrackerBusy at once)."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.domain.tracker_issues import (
    IssueChange,
    IssueRef,
    IssueState,
    NewIssue,
    TrackerBusy,
    TrackerRefused,
    TrackerUnreachable,
)
from bot.runtime.version import VERSION

TIMEOUT = aiohttp.ClientTimeout(total=10)
READ_AT_MOST = 1024 * 1024  # of an answer's body
REFUSED_REASONS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 410: "gone", 422: "invalid"}


@dataclass(frozen=True, slots=True)
class Answer:
    """A tracker's answer: its status, headers and JSON body (None when it was not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass(kw_only=True)
class TrackerClient(ABC):
    """One configured tracker, speaking its API over the process's HTTP session (the `Tracker` port)."""

    name: str
    http: aiohttp.ClientSession
    webhook_secret: str | None = field(default=None, repr=False)
    now: Callable[[], float] = time.time  # seconds since the epoch (rate-limit resets are given so)
    blocked_until: float = 0.0

    async def request(self, method: str, url: str, *, headers: Mapping[str, str], **kwargs: Any) -> Answer:
        """Make one call; its answer when 2xx, else the TrackerError it means."""
        wait = self.blocked_until - self.now()
        if wait > 0:
            raise TrackerBusy("rate_limited", retry_after=wait)
        sent = {"User-Agent": f"tocsin/{VERSION}", **headers}
        try:
            async with self.http.request(method, url, headers=sent, timeout=TIMEOUT, **kwargs) as response:
                raw = await response.content.read(READ_AT_MOST)
                answer = Answer(response.status, dict(response.headers), _json(raw))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TrackerUnreachable("unreachable") from exc
        self.note_limits(answer)
        if 200 <= answer.status < 300:
            return answer
        raise self.error_for(answer)

    def note_limits(self, answer: Answer) -> None:
        """Remember a rate limit the answer announces: by default a 429's `Retry-After` (adapters that
        know their tracker's own headers say more)."""
        if answer.status == 429 and (wait := retry_after(answer.headers)) is not None:
            self.block_for(wait)

    def error_for(self, answer: Answer) -> TrackerBusy | TrackerRefused:
        """The error a non-2xx answer means (adapters refine it for their rate limits)."""
        if answer.status == 429 or answer.status >= 500 or answer.status == 408:
            reason = "rate_limited" if answer.status == 429 else "server_error"
            return TrackerBusy(reason, retry_after=retry_after(answer.headers))
        return TrackerRefused(REFUSED_REASONS.get(answer.status, f"http_{answer.status}"))

    def block_for(self, seconds: float) -> None:
        """Call nothing for `seconds` (the tracker said so)."""
        self.blocked_until = max(self.blocked_until, self.now() + max(0.0, seconds))

    @abstractmethod
    async def create_issue(self, issue: NewIssue) -> IssueRef:
        """Make the issue; raises a TrackerError."""

    @abstractmethod
    async def set_state(self, issue_id: str, state: IssueState) -> None:
        """Close or reopen it (already so: nothing happens)."""

    @abstractmethod
    async def state_of(self, issue_id: str) -> IssueState:
        """Its state now (the polling fallback)."""

    @abstractmethod
    async def check(self) -> list[str]:
        """`tocsin check --trackers`: what the credentials can and cannot do, a line each."""

    @abstractmethod
    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether an inbound webhook is really from this tracker (its own signature or token)."""

    @abstractmethod
    def parse_webhook(self, headers: dict[str, str], body: bytes) -> IssueChange | None:
        """What a verified webhook says about an issue's state (None: not about one)."""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds (the delta form; an HTTP date is taken as a minute)."""
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 60.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever its case (None when absent)."""
    return _header(headers, name.lower())


def json_body(body: bytes) -> Any:
    """A webhook's JSON body (None when it is not JSON)."""
    return _json(body)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
