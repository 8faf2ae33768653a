"""The unit of work: one session, rolled back unless `commit()` is called."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_records import AlertRecords
from storage.db import READ_ONLY
from storage.followup_records import FollowUpRecords
from storage.incident_records import IncidentRepository
from storage.outbox_records import OutboxRecords
from storage.page_records import PageRepository
from storage.postmortem_records import PostmortemRecords
from storage.runbook_records import RunbookRecords
from storage.setup_records import SetupRecords
from storage.stats_records import StatsQueries
from storage.summary_records import SummaryRecords
from storage.timer_records import TimerRecords

# Commits made by the work running in this context (a list, so tasks it spawns count into it too): work
# that failed before committing anything can safely be tried again.
_commits: ContextVar[list[int] | None] = ContextVar("tocsin_commits", default=None)


# The writer lock this context holds (a nested unit of work in the same task must not wait for it).
_holding: ContextVar[asyncio.Lock | None] = ContextVar("tocsin_writer_lock", default=None)


def count_commits() -> list[int]:
    """Start counting this context's commits; the returned list's one item is the count."""
    counter = [0]
    _commits.set(counter)
    return counter


class UnitOfWork:
    """`async with uow:` opens a session; leaving without `commit()` rolls everything back."""

    incidents: IncidentRepository
    pages: PageRepository
    runbooks: RunbookRecords
    alerts: AlertRecords
    follow_ups: FollowUpRecords
    postmortems: PostmortemRecords
    stats: StatsQueries
    timers: TimerRecords
    setups: SetupRecords
    outbox: OutboxRecords

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        read_only: bool = False,
        writer_lock: asyncio.Lock | None = None,
    ) -> None:
        """Make sessions from the given factory; a `read_only` unit of work never takes SQLite's write lock.

        `writer_lock` (SQLite): writers queue on it in this process, first come first served, instead of
        sleeping and retrying on SQLite's busy timeout, whose growing sleeps made the slowest writes of a
        burst wait seconds. Other processes on the same file still meet SQLite's own lock.
        """
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._read_only = read_only
        self._writer_lock = writer_lock
        self._locked: tuple[asyncio.Lock, object] | None = None

    async def __aenter__(self) -> Self:
        """Start a session and its repositories."""
        lock = self._writer_lock
        if lock is not None and not self._read_only and _holding.get() is not lock:
            await lock.acquire()
            self._locked = (lock, _holding.set(lock))
        self._session = self._sessions()
        if self._read_only:
            await self._session.connection(execution_options={READ_ONLY: True})
        self.incidents = IncidentRepository(self._session)
        self.pages = PageRepository(self._session)
        self.runbooks = RunbookRecords(self._session)
        self.alerts = AlertRecords(self._session)
        self.follow_ups = FollowUpRecords(self._session)
        self.postmortems = PostmortemRecords(self._session)
        self.stats = StatsQueries(self._session)
        self.timers = TimerRecords(self._session, self.incidents)
        self.setups = SetupRecords(self._session, self.incidents)
        self.outbox = OutboxRecords(self._session)
        self.summaries = SummaryRecords(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed and close the session."""
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            try:
                await self._session.close()
            finally:
                self._session = None
                if self._locked is not None:
                    lock, token = self._locked
                    self._locked = None
                    _holding.reset(token)  # type: ignore[arg-type]
                    lock.release()

    async def commit(self) -> None:
        """Make the work durable."""
        assert self._session is not None
        await self._session.commit()
        if (counter := _commits.get()) is not None:
            counter[0] += 1
