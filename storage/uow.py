"""The unit of work: one session, rolled back unless `commit()` is called."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_records import AlertRecords
from storage.api_token_records import ApiTokenRecords, IdempotencyRecords
from storage.channel_records import ChannelRecords
from storage.contact_records import ContactRecords
from storage.db import READ_ONLY
from storage.event_records import EventRecords
from storage.follow_up_records import FollowUpRecords
from storage.handover_records import HandoverRecords
from storage.incident_records import IncidentRecords
from storage.job_records import JobRecords
from storage.outbox_records import OutboxRecords
from storage.page_records import PageRecords
from storage.postmortem_records import PostmortemRecords
from storage.related_records import RelatedRecords
from storage.runbook_records import RunbookRecords
from storage.setup_records import SetupRecords
from storage.shift_records import ShiftRecords
from storage.stats_records import StatsRecords
from storage.status_records import StatusRecords
from storage.summary_records import SummaryRecords
from storage.timer_records import TimerRecords
from storage.tracker_records import TrackerRecords
from storage.watch_records import WatchRecords
from storage.writer_queue import WriterQueue

WriterLock = asyncio.Lock | WriterQueue  # SQLite's writer in this process: in turn, or urgent work first

# Commits made by the work running in this context (a list, so tasks it spawns count into it too): work
# that failed before committing anything can safely be tried again.
_commits: ContextVar[list[int] | None] = ContextVar("tocsin_commits", default=None)


# The writer lock this context holds (a nested unit of work in the same task must not wait for it).
_holding: ContextVar[WriterLock | None] = ContextVar("tocsin_writer_lock", default=None)
_READ_ONLY_OPTIONS: Mapping[str, Any] = {READ_ONLY: True}  # an option of ours, not one SQLAlchemy knows


def count_commits() -> list[int]:
    """Start counting this context's commits; the returned list's one item is the count."""
    counter = [0]
    _commits.set(counter)
    return counter


class UnitOfWork:
    """`async with uow:` opens a session; leaving without `commit()` rolls everything back."""

    incidents: IncidentRecords
    pages: PageRecords
    runbooks: RunbookRecords
    alerts: AlertRecords
    follow_ups: FollowUpRecords
    postmortems: PostmortemRecords
    stats: StatsRecords
    timers: TimerRecords
    setups: SetupRecords
    outbox: OutboxRecords
    summaries: SummaryRecords
    events: EventRecords
    api_tokens: ApiTokenRecords
    idempotency: IdempotencyRecords
    status: StatusRecords
    trackers: TrackerRecords
    jobs: JobRecords
    contacts: ContactRecords
    shifts: ShiftRecords
    handovers: HandoverRecords
    watch: WatchRecords
    channels: ChannelRecords
    related: RelatedRecords

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        read_only: bool = False,
        writer_lock: WriterLock | None = None,
        events_committed: Callable[[], None] | None = None,
    ) -> None:
        """Make sessions from the given factory; a `read_only` unit of work never takes SQLite's write lock.

        `events_committed()` is called after a commit that appended events (the event log's subscribers
        wake at once instead of at their next look).

        `writer_lock`: writers queue on it in this process (storage.writer_queue: urgent work first). On
        SQLite it holds one writer, instead of sleeping and retrying on SQLite's busy timeout, whose growing
        sleeps made the slowest writes of a burst wait seconds (other processes on the same file still meet
        SQLite's own lock); on PostgreSQL as many as the pool has connections.
        """
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._read_only = read_only
        self._writer_lock = writer_lock
        self._events_committed = events_committed
        self._locked: tuple[WriterLock, Token[WriterLock | None]] | None = None

    async def __aenter__(self) -> Self:
        """Start a session and its repositories."""
        lock = self._writer_lock
        if lock is not None and not self._read_only and _holding.get() is not lock:
            await lock.acquire()
            self._locked = (lock, _holding.set(lock))
        self._session = self._sessions()
        if self._read_only:
            await self._session.connection(execution_options=_READ_ONLY_OPTIONS)
        self.incidents = IncidentRecords(self._session)
        self.pages = PageRecords(self._session)
        self.runbooks = RunbookRecords(self._session)
        self.alerts = AlertRecords(self._session)
        self.follow_ups = FollowUpRecords(self._session)
        self.postmortems = PostmortemRecords(self._session)
        self.stats = StatsRecords(self._session)
        self.events = EventRecords(self._session)
        self.timers = TimerRecords(self._session, self.incidents, self.events)
        self.setups = SetupRecords(self._session, self.incidents)
        self.outbox = OutboxRecords(self._session)
        self.summaries = SummaryRecords(self._session)
        self.api_tokens = ApiTokenRecords(self._session)
        self.idempotency = IdempotencyRecords(self._session)
        self.status = StatusRecords(self._session)
        self.trackers = TrackerRecords(self._session)
        self.jobs = JobRecords(self._session)
        self.contacts = ContactRecords(self._session)
        self.shifts = ShiftRecords(self._session)
        self.handovers = HandoverRecords(self._session)
        self.watch = WatchRecords(self._session)
        self.channels = ChannelRecords(self._session)
        self.related = RelatedRecords(self._session)
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
                    _holding.reset(token)
                    lock.release()

    async def commit(self) -> None:
        """Make the work durable."""
        assert self._session is not None
        await self._session.commit()
        if (counter := _commits.get()) is not None:
            counter[0] += 1
        if self.events.appended and self._events_committed is not None:
            self.events.appended = 0
            self._events_committed()
