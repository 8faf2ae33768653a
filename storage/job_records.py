"""The scheduled jobs (`uow.jobs`): planning them by key, claiming the due ones under a lease and recording
what became of each. Never commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.jobs import Job, JobAgain, JobDone, JobOutcome, JobRetry
from storage.core_sql import dialect_insert, table_of
from storage.job_models import JobRow
from storage.leases import Lease

_jobs = table_of(JobRow)
JOB_DUE = Lease(
    _jobs,
    due="due_at",
    claim="claim",
    until="claimed_until",
    where=[_jobs.c.done_at.is_(None), _jobs.c.kind.in_(sa.bindparam("kinds", expanding=True))],
)
_PENDING = _jobs.c.done_at.is_(None)
_OUTCOME_LENGTH = 200


def job_from_row(row: Any) -> Job:
    """A job from its row."""
    return Job(
        id=row.id,
        kind=row.kind,
        key=row.key,
        due_at=row.due_at,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
    )


class JobRecords:
    """Scheduled jobs within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def schedule(
        self, kind: str, key: str, *, due_at: datetime, payload: Mapping[str, Any] | None = None
    ) -> bool:
        """Plan a job unless one with `key` exists (finished or not); whether this call planned it."""
        insert = dialect_insert(self._session, _jobs).values(
            kind=kind, key=key, due_at=due_at, payload=dict(payload or {}), attempts=0
        )
        result = await self._session.exec(insert.on_conflict_do_nothing(index_elements=["key"]))
        return bool(result.rowcount)

    async def reschedule(self, key: str, *, due_at: datetime, payload: Mapping[str, Any] | None = None) -> bool:
        """Move an unfinished job (with a new payload, if given); whether there was one."""
        values: dict[str, Any] = {"due_at": due_at}
        if payload is not None:
            values["payload"] = dict(payload)
        result = await self._session.exec(sa.update(_jobs).where(_jobs.c.key == key, _PENDING).values(values))
        return bool(result.rowcount)

    async def cancel(self, key: str) -> bool:
        """Finish an unfinished job without firing it; whether there was one."""
        return await self._cancel(_jobs.c.key == key) > 0

    async def cancel_prefix(self, prefix: str) -> int:
        """Finish every unfinished job whose key starts with `prefix`; how many."""
        return await self._cancel(_jobs.c.key.startswith(prefix, autoescape=True))

    async def _cancel(self, which: sa.ColumnElement[bool]) -> int:
        statement = (
            sa.update(_jobs)
            .where(which, _PENDING)
            .values(done_at=_jobs.c.due_at, outcome="cancelled")  # finished: its key stays taken
        )
        result = await self._session.exec(statement)
        return int(result.rowcount or 0)

    async def pending(self, key: str) -> Job | None:
        """The unfinished job with `key`, if any."""
        row = (await self._session.exec(sa.select(_jobs).where(_jobs.c.key == key, _PENDING))).first()  # type: ignore[call-overload]
        return job_from_row(row) if row is not None else None

    async def pending_of_kind(self, kind: str, *, prefix: str = "", limit: int = 100) -> Sequence[Job]:
        """Unfinished jobs of `kind` (keys starting with `prefix`), soonest first."""
        statement = (
            sa.select(_jobs)
            .where(_jobs.c.kind == kind, _PENDING, _jobs.c.key.startswith(prefix, autoescape=True))
            .order_by(_jobs.c.due_at, _jobs.c.id)
            .limit(limit)
        )
        return [job_from_row(r) for r in (await self._session.exec(statement)).all()]  # type: ignore[call-overload]

    async def claim(
        self, *, kinds: Sequence[str], now: datetime, lease: timedelta, token: str, limit: int
    ) -> Sequence[Job]:
        """Take up to `limit` due jobs of `kinds` for `lease` (replicas skip each other's)."""
        if not kinds:
            return []
        rows = await JOB_DUE.claim_due(
            self._session, now=now, lease=lease, token=token, limit=limit, extra={"kinds": list(kinds)}
        )
        return [job_from_row(r) for r in rows]

    async def finish(self, job: Job, outcome: JobOutcome, *, token: str, now: datetime) -> bool:
        """Record a fired job's outcome, unless its claim was lost; whether it was recorded."""
        values: dict[str, Any] = {"claim": None, "claimed_until": None, "attempts": _jobs.c.attempts + 1}
        match outcome:
            case JobDone(note=note):
                values.update(done_at=now, outcome=(note or "done")[:_OUTCOME_LENGTH])
            case JobRetry(at=at, error=error):
                values.update(due_at=at, outcome=error[:_OUTCOME_LENGTH])
            case JobAgain(at=at, payload=payload):
                values.update(due_at=at, attempts=0, outcome=None)
                if payload is not None:
                    values["payload"] = dict(payload)
        statement = sa.update(_jobs).where(_jobs.c.id == job.id, _jobs.c.claim == token, _PENDING).values(values)
        result = await self._session.exec(statement)
        return bool(result.rowcount)

    async def release(self, token: str) -> None:
        """Give back every claim `token` still holds (a stopping runner)."""
        await JOB_DUE.release_all(self._session, token=token)
