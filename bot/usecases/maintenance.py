"""Maintenance windows: made from Slack (`/incident maintenance <service> <duration> [reason]`) or the
policy's recurring ones (one stored occurrence at a time, the next planned when one ends), and what they
silence (the `Silences` hook: the alert intake and a declare's page ask it).

A window silences by its times alone, so it ends by itself even if nothing runs at its end; its start and
end are also jobs, which record MaintenanceStarted/MaintenanceEnded (a subscriber posts a short notice in
the broadcast channel) and plan a recurring window's next occurrence."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import NotFoundError, UserError
from bot.domain.event_kinds import EventKind
from bot.domain.events import DomainEvent, Subject, new_event
from bot.domain.events_beyond import MaintenanceEnded, MaintenanceStarted
from bot.domain.heartbeats import HeartbeatState
from bot.domain.jobs import Job, JobDone, JobOutcome, job_key
from bot.domain.maintenance import NewWindow, Window, next_occurrence
from bot.domain.permissions import NotPermitted, is_admin
from bot.domain.policy import Policy
from bot.domain.watch_policy import MAX_WINDOW, RecurringMaintenance
from bot.runtime.logs import event
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory
from bot.usecases.watch_ports import WatchViews

log = logging.getLogger(__name__)

STARTS = "maintenance.start"
ENDS = "maintenance.end"
MAX_TOPIC = 64
UPCOMING = timedelta(days=7)  # how far ahead App Home shows windows


def subject(service: str) -> Subject:
    """What a window's events are about (a long service name is hashed to fit the event stream's column)."""
    topic = f"maintenance:{service}"
    if len(topic) > MAX_TOPIC:
        topic = f"maintenance:{hashlib.sha256(service.encode()).hexdigest()[:40]}"
    return Subject(topic=topic)


@dataclass
class Maintenance:
    """Maintenance windows, and the silences they make."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    directory: UserDirectory | None = None  # whose the owners' and admins' e-mail addresses are

    # ----- the Silences hook ------------------------------------------------------------------------
    async def silencing(
        self, service: str | None, severity: str, *, now: datetime, declared: bool = False
    ) -> str | None:
        """Why paging for `service` at `severity` is silenced now (the window, described), or None."""
        if service is None:
            return None
        async with self.uow(read_only=True) as uow:
            windows = await uow.watch.windows(now=now, service=service)
        most_severe = self.policy.rank(severity) == 0
        for window in windows:
            if window.active_at(now) and window.silences(declared=declared, most_severe=most_severe):
                return window.describe()
        return None

    async def active(self, *, now: datetime) -> list[str]:
        """The windows silencing something now, described (plain text)."""
        return [w.describe() for w in await self.listing(now=now) if w.active_at(now)]

    # ----- from Slack -------------------------------------------------------------------------------
    async def listing(self, *, now: datetime) -> Sequence[Window]:
        """The windows active now or to come, soonest first."""
        async with self.uow(read_only=True) as uow:
            return await uow.watch.windows(now=now)

    async def open_window(self, service: str, duration: timedelta, reason: str, *, actor: str) -> Window:
        """Silence `service`'s paging from now for `duration` (its owners or the admins; anyone when it has
        no owners)."""
        if service not in self.policy.services:
            raise NotFoundError(f"There is no service called {service[:40]!r}.")
        if not timedelta(0) < duration <= MAX_WINDOW:
            raise UserError("A maintenance window lasts more than 0s and at most 7d.")
        await self._require_owner(service, actor)
        now = self.clock()
        new = NewWindow(service, now, now + duration, reason[:500], created_by=actor)
        async with self.uow() as uow:
            window = await uow.watch.add_window(new)
            await _plan_jobs(uow, window, starting_now=True)
            await uow.events.append(_started(window, actor=actor, at=now))
            await uow.commit()
        event(log, "maintenance window %s for %s until %s", window.id, service, window.ends_at, actor=actor)
        return window

    async def end_early(self, which: str, *, actor: str) -> list[Window]:
        """End the active windows of a service (or the one window with that number) now."""
        now = self.clock()
        number = which.lstrip("#")
        async with self.uow(read_only=True) as uow:
            windows = [w for w in await uow.watch.windows(now=now) if w.active_at(now)]
        chosen = [w for w in windows if (str(w.id) == number if number.isdigit() else w.service == which)]
        if not chosen:
            raise NotFoundError(f"No maintenance window of {which[:40]!r} is active now.")
        for service in {w.service for w in chosen}:
            await self._require_owner(service, actor)
        ended: list[Window] = []
        async with self.uow() as uow:
            for window in chosen:
                if (done := await _end(uow, window, actor=actor, at=now)) is not None:
                    ended.append(done)
                    await self._plan_next(uow, window, now=now)
            await uow.commit()
        for window in ended:
            event(log, "maintenance window %s for %s ended early", window.id, window.service, actor=actor)
        return ended

    # ----- the policy's recurring windows -------------------------------------------------------------
    async def plan(self) -> None:
        """At start: every recurring window's current or next occurrence stored and its jobs planned
        (idempotent across replicas); occurrences of windows the policy no longer has are dropped (or ended,
        if running)."""
        now = self.clock()
        keys = {w.key: w for w in self.policy.maintenance}
        async with self.uow() as uow:
            for stored in await uow.watch.windows(now=now):
                if stored.recurring_key is None or stored.recurring_key in keys:
                    continue
                if stored.active_at(now):
                    await _end(uow, stored, actor=None, at=now)
                else:
                    await uow.jobs.cancel(job_key(STARTS, stored.id))
                    await uow.jobs.cancel(job_key(ENDS, stored.id))
                    await uow.watch.drop_window(stored.id)
            for window in keys.values():
                await self._store_occurrence(uow, window, after=now)
            await uow.commit()

    async def window_started(self, job: Job) -> JobOutcome:
        """A window's start job: record that it began (a notice follows)."""
        now = self.clock()
        async with self.uow() as uow:
            window = await uow.watch.window(int(job.payload["window"]))
            if window is None or not window.active_at(max(now, window.starts_at)):
                return JobDone("ended or dropped before it began")
            await uow.events.append(_started(window, actor=None, at=now))
            await uow.commit()
        event(log, "maintenance window %s for %s began", window.id, window.service)
        return JobDone("started")

    async def window_ended(self, job: Job) -> JobOutcome:
        """A window's end job: record that it ended, and plan a recurring window's next occurrence."""
        now = self.clock()
        async with self.uow() as uow:
            window = await uow.watch.window(int(job.payload["window"]))
            if window is None or window.ended_at is not None:
                return JobDone("ended early or dropped")
            ended = MaintenanceEnded(window_id=window.id, service=window.service)
            await uow.events.append(new_event(ended, subject=subject(window.service), actor=None, at=now))
            await self._plan_next(uow, window, now=now)
            await uow.commit()
        event(log, "maintenance window %s for %s ended", window.id, window.service)
        return JobDone("ended")

    async def _plan_next(self, uow: UnitOfWork, window: Window, *, now: datetime) -> None:
        recurring = next((w for w in self.policy.maintenance if w.key == window.recurring_key), None)
        if recurring is not None:
            await self._store_occurrence(uow, recurring, after=max(now, window.ends_at))

    async def _store_occurrence(self, uow: UnitOfWork, window: RecurringMaintenance, *, after: datetime) -> None:
        when = next_occurrence(window, after, default_zone=self.policy.timezone)
        new = NewWindow(
            window.service,
            when.starts_at,
            when.ends_at,
            window.reason,
            recurring_key=window.key,
            declares_page=window.declares_page,
        )
        await _plan_jobs(uow, await uow.watch.add_window(new), starting_now=False)

    async def _require_owner(self, service: str, actor: str) -> None:
        owners = self.policy.services[service].owners
        if not owners:
            return
        if self.directory is not None:
            ids = {r.user_id for r in await self.directory.resolve_all(owners)}
        else:
            ids = set(owners)
        if actor in ids or is_admin(actor, self.policy, await permission_directory(self.directory)):
            return
        raise NotPermitted(f"Only {service}'s owners or the admins may start or end its maintenance windows.")


async def _plan_jobs(uow: UnitOfWork, window: Window, *, starting_now: bool) -> None:
    """The window's end job, and its start job unless it is recorded as begun already (idempotent)."""
    payload = {"window": window.id}
    if not starting_now:
        await uow.jobs.schedule(STARTS, job_key(STARTS, window.id), due_at=window.starts_at, payload=payload)
    await uow.jobs.schedule(ENDS, job_key(ENDS, window.id), due_at=window.ends_at, payload=payload)


async def _end(uow: UnitOfWork, window: Window, *, actor: str | None, at: datetime) -> Window | None:
    """End a window early, with its event; its end job is not needed any more."""
    ended = await uow.watch.end_window(window.id, at=at)
    if ended is None:
        return None
    await uow.jobs.cancel(job_key(ENDS, window.id))
    data = MaintenanceEnded(window_id=window.id, service=window.service)
    await uow.events.append(new_event(data, subject=subject(window.service), actor=actor, at=at))
    return ended


def _started(window: Window, *, actor: str | None, at: datetime) -> DomainEvent:
    data = MaintenanceStarted(
        window_id=window.id,
        service=window.service,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        reason=window.reason,
    )
    return new_event(data, subject=subject(window.service), actor=actor, at=at)


@dataclass(frozen=True)
class MaintenanceNotices:
    """The broadcast channel hears when a window begins and ends (a subscriber of the event log)."""

    uow: UnitOfWorkFactory
    slack: Slack
    views: WatchViews
    policy: Policy
    name: str = "maintenance-notices"
    kinds: Collection[EventKind] | None = frozenset({EventKind.MAINTENANCE_STARTED, EventKind.MAINTENANCE_ENDED})

    async def handle(self, event: DomainEvent) -> None:
        """Post the notice (a failure is tried again by the event log)."""
        channel = self.policy.broadcast_channel
        data = event.data
        if channel is None or not isinstance(data, MaintenanceStarted | MaintenanceEnded):
            return
        async with self.uow(read_only=True) as uow:
            window = await uow.watch.window(data.window_id)
        if window is None:
            return
        if isinstance(data, MaintenanceStarted):
            await self.slack.post(channel, *self.views.maintenance_started(window))
        else:
            await self.slack.post(channel, *self.views.maintenance_ended(window, ended_by=event.actor))


@dataclass(frozen=True)
class WatchHome:
    """App Home's part: maintenance windows active or starting within a week, and missed heartbeats (shown
    to everyone: they say why a page did or did not come)."""

    maintenance: Maintenance
    missed: Callable[[], Awaitable[Sequence[HeartbeatState]]]
    views: WatchViews
    clock: Clock

    async def blocks(self, team_id: str, user_id: str) -> list[dict[str, Any]]:
        """The section's blocks (none when nothing is on)."""
        now = self.clock()
        windows = [w for w in await self.maintenance.listing(now=now) if w.starts_at <= now + UPCOMING]
        missed = await self.missed()
        if not windows and not missed:
            return []
        return self.views.home_section(windows, missed, now=now)
