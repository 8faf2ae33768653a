"""A Tocsin rig for tracker tests: a migrated database (SQLite or PostgreSQL), the real adapters built
from a policy and pointed at a tracker double, the "trackers" subscriber under the real event dispatch,
the follow-up service that emits the events, and the inbound route served on a local port (the double
sends its webhooks there). The clock is the test's: backoff and rate limits move only when it does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web

from bot.domain.follow_ups import FollowUp, NewFollowUp
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.domain.tracker_issues import FollowUpIssue
from bot.entrypoints.event_dispatch import EventDispatch
from bot.entrypoints.tracker_webhooks import add_tracker_routes
from bot.runtime.metrics import Metrics
from bot.runtime.trackers import build_trackers
from bot.slack import messages
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.tracker_sync import TrackerSync
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.service.fakes import RecordingSlack, incident_in_channel
from tests.trackers.double_base import TrackerDouble
from tests.values import FakeClock

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Rig:
    """Tocsin's tracker parts over one database, and the tracker double they talk to."""

    units: UnitOfWorkFactory
    clock: FakeClock
    slack: RecordingSlack
    metrics: Metrics
    sync: TrackerSync
    dispatch: EventDispatch
    follow_ups: FollowUpService
    double: TrackerDouble

    async def incident(self, **new: Any) -> Incident:
        """A stored incident (`new`: NewIncident's fields, e.g. private=True, service=…)."""
        return await incident_in_channel(self.units, now=self.clock(), **new)

    async def follow_up(self, incident: Incident, text: str = "Raise the pool size", **more: Any) -> FollowUp:
        """A follow-up added as people add them (its `follow_up.created` event in the log)."""
        return await self.follow_ups.record(incident, NewFollowUp(text=text, **more), actor="U0ALICE")

    async def deliver(self) -> int:
        """Hand the subscriber what is due now, as its loop does until nothing is (one event of an
        incident per claim); how many it handled or failed."""
        handled = 0
        while count := await self.dispatch.deliver(self.sync):
            handled += count
            if handled > 1000:
                raise AssertionError("the subscriber never runs out of events")
        return handled

    async def stored(self, follow_up_id: int) -> FollowUp:
        """The follow-up as stored."""
        return await self.follow_ups.get(follow_up_id)

    async def issue(self, follow_up_id: int) -> FollowUpIssue | None:
        """The follow-up's issue as stored."""
        async with self.units(read_only=True) as uow:
            return await uow.trackers.issue_of(follow_up_id)

    def errors(self, tracker: str, reason: str) -> float:
        """tocsin_tracker_errors_total{tracker,reason}."""
        value: float = self.metrics.tracker_errors.labels(tracker, reason)._value.get()
        return value


@asynccontextmanager
async def database(url: str) -> AsyncIterator[UnitOfWorkFactory]:
    """Units of work over a database migrated as production migrates it."""
    engine = create_engine(url)
    await upgrade_to_head(engine)
    try:
        yield partial(UnitOfWork, session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def rig(
    units: UnitOfWorkFactory, double: TrackerDouble, policy: dict[str, Any], environ: dict[str, str]
) -> AsyncIterator[Rig]:
    """The rig for `policy`, its adapters reading `environ`; the double's webhooks go to its route."""
    clock, slack, metrics = FakeClock(T0), RecordingSlack(), Metrics()
    checked = Policy.model_validate(policy)
    async with aiohttp.ClientSession() as http:
        trackers = build_trackers(checked, http, environ, now=lambda: clock().timestamp())
        sync = TrackerSync(uow=units, trackers=trackers, policy=checked, slack=slack, clock=clock, metrics=metrics)
        dispatch = EventDispatch(units, [sync], clock, metrics)  # type: ignore[arg-type]
        await dispatch.register()
        follow_ups = FollowUpService(
            uow=units, slack=slack, messages=messages, policy=checked, clock=clock, metrics=metrics
        )
        app = web.Application()
        add_tracker_routes(app, sync)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        name = next(iter(checked.trackers))
        double.webhook_url = f"http://127.0.0.1:{port}/trackers/{name}/webhook"
        try:
            yield Rig(units, clock, slack, metrics, sync, dispatch, follow_ups, double)
        finally:
            await runner.cleanup()
