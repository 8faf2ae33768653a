"""Scheduled jobs: one-off timers kept in the database (a contact attempt, a shift's handoff, a heartbeat's
deadline, a channel's archive), each of a `kind` with a handler, fired once across replicas.

A job is keyed: scheduling the same key twice keeps the first (so a retried transaction, or two replicas
planning the same thing, plan it once). A handler is given the job and says what became of it: done,
tried again later, or due again (a recurring job keeps its row). Pure: no SQL, no Slack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job as it was when claimed (`attempts`: how many times it was tried before)."""

    id: int
    kind: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class JobDone:
    """The job did what it was for (or found nothing left to do): it is finished for good."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class JobRetry:
    """The job could not be done now (an outside service failed): try it again at `at`."""

    at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class JobAgain:
    """A recurring job: due again at `at` (with `payload` instead of the old one, if given)."""

    at: datetime
    payload: Mapping[str, Any] | None = None


JobOutcome = JobDone | JobRetry | JobAgain


def job_key(*parts: object) -> str:
    """A job's key from its parts (`contact`, 42, 0, 1, "U1" → "contact:42:0:1:U1"), within the column."""
    key = ":".join(str(p) for p in parts)
    if len(key) > MAX_KEY:
        raise ValueError(f"job key longer than {MAX_KEY} characters: {key[:40]}…")
    return key
