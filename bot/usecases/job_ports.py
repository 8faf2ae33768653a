"""The scheduled jobs' store (bot/domain/jobs.py), as the use cases and the job runner see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain.jobs import Job, JobOutcome

JobHandler = Callable[[Job], Awaitable[JobOutcome]]  # fires one claimed job of its kind


class JobStore(Protocol):
    """Jobs in the unit of work's transaction."""

    async def schedule(
        self, kind: str, key: str, *, due_at: datetime, payload: Mapping[str, Any] | None = None
    ) -> bool:
        """Plan a job unless one with `key` exists (finished or not); whether this call planned it."""
        ...

    async def reschedule(self, key: str, *, due_at: datetime, payload: Mapping[str, Any] | None = None) -> bool:
        """Move an unfinished job (and give it a new payload, if given); whether there was one."""
        ...

    async def cancel(self, key: str) -> bool:
        """Finish an unfinished job without firing it; whether there was one."""
        ...

    async def cancel_prefix(self, prefix: str) -> int:
        """Finish every unfinished job whose key starts with `prefix`; how many."""
        ...

    async def pending(self, key: str) -> Job | None:
        """The unfinished job with `key`, if any."""
        ...

    async def pending_of_kind(self, kind: str, *, prefix: str = "", limit: int = 100) -> Sequence[Job]:
        """Unfinished jobs of `kind` (keys starting with `prefix`), soonest first."""
        ...

    async def claim(
        self, *, kinds: Sequence[str], now: datetime, lease: timedelta, token: str, limit: int
    ) -> Sequence[Job]:
        """Take up to `limit` due jobs of `kinds` for `lease` (replicas skip each other's)."""
        ...

    async def finish(self, job: Job, outcome: JobOutcome, *, token: str, now: datetime) -> bool:
        """Record a fired job's outcome, unless its claim was lost; whether it was recorded."""
        ...

    async def release(self, token: str) -> None:
        """Give back every claim `token` still holds (a stopping runner)."""
        ...
