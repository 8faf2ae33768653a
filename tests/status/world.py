"""What the status page tests build on: the real use cases over an in-memory SQLite database (whose
statements a test can count) and a recording Slack, the status page over them, and an aiohttp app serving
it as Tocsin does (the security headers middleware included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.drafts import ResolutionDraft, UpdateDraft
from bot.domain.incidents import Incident
from bot.domain.policy import Policy, Service
from bot.domain.status_page import PublicWording
from bot.domain.status_policy import StatusPagePolicy
from bot.entrypoints.status import StatusPage, add_status_routes
from bot.entrypoints.web_security import security_headers
from bot.runtime.doorbell import Doorbell
from bot.slack import messages
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.outbox import Outbox
from bot.usecases.respond import ResponseService
from bot.usecases.status_board import StatusBoard
from bot.usecases.visibility import Visibility
from storage.db import create_engine, session_factory, use_wal
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, RecordingSlack, incident_in_channel

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PUBLIC_URL = "https://status.example.com"
ALICE, BOB, ADMIN = "U0ALICE", "U0BOB", "U0ADMIN"


def status_policy(**status_page: Any) -> Policy:
    """checkout and api are on the status page, billing-db is not; U0ADMIN is a Tocsin admin."""
    return Policy(
        admins=[ADMIN],
        services={
            "checkout": Service(keywords=["checkout"], status_page=True),
            "api": Service(keywords=["api"], status_page=True),
            "billing-db": Service(keywords=["billing"]),
        },
        status_page=StatusPagePolicy.model_validate({"title": "Example status", **status_page}),
    )


async def migrated(url: str) -> AsyncEngine:
    """An engine on a database migrated to head (the page's refresher reads beside the writers, so each
    unit of work has a connection of its own, as in Tocsin)."""
    engine = create_engine(url)
    await use_wal(engine)
    await upgrade_to_head(engine)
    return engine


class StatusWorld:
    """Incidents run through the real use cases, and the status page over the same database."""

    def __init__(self, engine: AsyncEngine, policy: Policy) -> None:
        self.engine, self.policy, self.clock, self.slack = engine, policy, FakeClock(NOW), RecordingSlack()
        sessions = session_factory(engine)

        self.committed = Doorbell()  # rung after a commit that appended events, as in Tocsin

        def uow(*, read_only: bool = False) -> UnitOfWork:
            return UnitOfWork(sessions, read_only=read_only, events_committed=self.committed.ring)

        self.uow = uow
        slack, clock, shown = self.slack, self.clock, messages
        header = HeaderKeeper(uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, min_interval=0)
        home = HomeKeeper(
            uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, visibility=Visibility(slack)
        )
        self.response = ResponseService(
            uow=uow, slack=slack, messages=shown, policy=policy, clock=clock, header=header, home=home,
            outbox=Outbox(uow=uow, slack=slack, messages=shown, clock=clock),
        )  # fmt: skip
        self.lifecycle = Lifecycle(uow=uow, messages=shown, policy=policy, clock=clock, announce=self.response.announce)
        self.board = StatusBoard(uow=uow, policy=policy, clock=clock)
        # Not on `committed`: it sees changes as another replica's page does, at its next look.
        self.page = StatusPage(self.board, public_url=PUBLIC_URL, every=0.05, min_gap=0.0)
        self._channels = 0

    async def declare(self, title: str = "Checkout errors", **new: Any) -> Incident:
        """An incident with its channel (Alice its IC), on `service` checkout unless said otherwise."""
        self._channels += 1
        values = {"service": "checkout", "declare_key": f"k{self._channels}"} | new
        return await incident_in_channel(
            self.uow, now=self.clock(), channel_id=f"C0INC{self._channels}", title=title, **values
        )

    async def publish(
        self, incident: Incident, text: str, *, title: str | None = None, actor: str = ALICE, known: str = ""
    ) -> Incident:
        """`/incident update --public …` (with `known`: the form, posting both)."""
        self.clock.advance(minutes=1)
        return await self.response.post_update(
            incident.id, draft=UpdateDraft(known=known), actor=actor, reply_to=None, public=PublicWording(text, title)
        )

    async def update(self, incident: Incident, known: str) -> Incident:
        """An internal update only."""
        self.clock.advance(minutes=1)
        return await self.response.post_update(incident.id, draft=UpdateDraft(known=known), actor=ALICE, reply_to=None)

    async def resolve(self, incident: Incident, summary: str = "Rolled back", *, public: str | None = None) -> Incident:
        self.clock.advance(minutes=1)
        draft = ResolutionDraft(summary=summary)
        return await self.lifecycle.resolve(incident.id, draft=draft, actor=ALICE, reply_to=None, public=public)


async def world_for(url: str, policy: Policy | None = None) -> StatusWorld:
    """A world on a fresh database at `url`."""
    return StatusWorld(await migrated(url), policy or status_policy())


class Statements:
    """Counts the SQL statements an engine runs while counting."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        sa.event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def serving(page: StatusPage) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A client of an app serving the status page (its refresher running) as Tocsin does."""
    app = web.Application(middlewares=[security_headers])
    add_status_routes(app, page)
    async with TestClient(TestServer(app)) as client:
        yield client
