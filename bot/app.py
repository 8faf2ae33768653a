"""A Tocsin process: built from its parts (bot/wiring.py), started and stopped (the process lifecycle)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import wiring
from bot.domain.errors import ConfigError
from bot.domain.policy import Policy
from bot.entrypoints.bolt_app import bolt_app
from bot.entrypoints.deps import Deps
from bot.entrypoints.event_dispatch import EventDispatch
from bot.entrypoints.http import add_routes
from bot.entrypoints.job_runner import JobRunner
from bot.entrypoints.status import StatusPage, add_status_routes
from bot.entrypoints.timers import TICK_SECONDS, Timers
from bot.entrypoints.tracker_polling import TrackerPolling
from bot.entrypoints.web_security import security_headers
from bot.runtime.health import Identity, database_answers
from bot.runtime.logs import Outage
from bot.runtime.metrics import Metrics
from bot.runtime.slack_status import AUTH_ERRORS, AUTH_TEST, SlackStatus
from bot.runtime.startup import delays, wait_for_database, wait_for_slack
from bot.runtime.version import VERSION
from bot.settings import Settings
from bot.slack.web_client import SLACK_POST_INTERVAL
from bot.usecases.live_views import HEADER_EDIT_INTERVAL
from bot.usecases.ports import Clock, utc_now
from storage.db import open_pool
from storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)

AUTH_RETRY_SECONDS = 30.0  # the longest wait between bot-token checks while Slack is unreachable


@dataclass
class Tocsin:
    """A running (or ready to run) Tocsin: start() it, stop() it."""

    settings: Settings
    engine: AsyncEngine
    http: aiohttp.ClientSession
    bolt: AsyncApp
    web_app: web.Application
    deps: Deps
    metrics: Metrics
    slack_status: SlackStatus
    identity: Identity = field(default_factory=Identity)
    database_outage: Outage = field(default_factory=lambda: Outage(log, "health check: the database"))
    timers: Timers | None = None
    jobs: JobRunner | None = None  # scheduled jobs: contact attempts, handoffs, heartbeats, archives…
    events: EventDispatch | None = None
    tracker_polling: TrackerPolling | None = None
    status_page: StatusPage | None = None  # its refresher runs while the process does
    closing: tuple[Callable[[], Awaitable[None]], ...] = ()  # outside services' sessions, closed last
    starting: tuple[Callable[[], Awaitable[None]], ...] = ()  # the capabilities' start (plan first jobs…)
    tick_seconds: float | None = TICK_SECONDS
    socket_mode: AsyncSocketModeHandler | None = None
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None
    _auth_task: asyncio.Task[None] | None = None
    _stopped: bool = False

    @property
    def port(self) -> int:
        """The port the HTTP server listens on (useful when started on port 0)."""
        assert self._runner is not None
        for address in self._runner.addresses:
            return int(address[1])
        raise RuntimeError("the HTTP server is not listening")

    async def start(self) -> None:
        """Serve HTTP (health answers from now on), wait for the database and migrate it, check the bot
        token, start the workers and the timer, and connect to Slack. Interruptible at every step."""
        self._runner = web.AppRunner(self.web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await self._site.start()
        log.info(
            "Tocsin %s serving HTTP on %s:%s (ready once the database answers)", VERSION, self.settings.host, self.port
        )
        await wait_for_database(
            self.engine, self.settings.database_url, within=self.settings.startup_timeout, ready=upgrade_to_head
        )
        await open_pool(self.engine)
        await self._check_slack_once(fatal=True)
        if self.events is not None:  # before any work can append events: each gets its deliveries
            await self.events.register()
        self.deps.background.start()
        for start in self.starting:
            await start()
        if self.events is not None:
            self.events.start()
        if self.tracker_polling is not None:
            self.tracker_polling.start()
        if self.status_page is not None:
            self.status_page.start()
        if self.timers is not None and self.tick_seconds is not None:
            self.timers.start(self.tick_seconds)
        if self.jobs is not None and self.tick_seconds is not None:
            self.jobs.start(max(self.tick_seconds, 1.0))
        if self.socket_mode is not None:
            await wait_for_slack(self._app_token_accepted, "Socket Mode", self.slack_status)
            await self.socket_mode.connect_async()  # type: ignore[no-untyped-call]
        mode = "Socket Mode" if self.socket_mode else "HTTP (POST /slack/events)"
        log.info(
            "Tocsin is up on %s:%s (version %s); Slack traffic via %s", self.settings.host, self.port, VERSION, mode
        )

    async def _app_token_accepted(self) -> None:
        """apps.connections.open with the app token: Slack's answer to whether Socket Mode can work."""
        assert self.settings.slack_app_token is not None
        try:
            await self.deps.slack.client.apps_connections_open(
                app_token=self.settings.slack_app_token.get_secret_value()
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in AUTH_ERRORS:
                raise ConfigError(f"SLACK_APP_TOKEN was refused by Slack ({error})") from None
            raise aiohttp.ClientError(f"apps.connections.open: {error}") from None

    async def ready(self) -> dict[str, str]:
        """The database's state ("ok" or "unreachable"), which readiness depends on, and Slack's as detail."""
        return {
            "database": "ok" if await database_answers(self.engine, self.database_outage) else "unreachable",
            **await self.slack(),
        }

    async def slack(self) -> dict[str, str]:
        """Slack's state (and why it is not ok), and the Socket Mode connection's when it is used."""
        report = self.slack_status.report()
        if self.socket_mode is not None:
            connected = await self.socket_mode.client.is_connected()
            report["socket_mode"] = "ok" if connected else "not connected"
        return report

    async def stop(self, drain_seconds: float | None = None) -> None:
        """Stop taking work, let acknowledged work finish (within SHUTDOWN_GRACE), release everything (once)."""
        if self._stopped:
            return
        self._stopped = True
        grace = self.settings.shutdown_grace if drain_seconds is None else drain_seconds
        deadline = asyncio.get_running_loop().time() + grace
        if self.socket_mode is not None:
            await self.socket_mode.close_async()  # type: ignore[no-untyped-call]
        if self._site is not None:
            await self._site.stop()
        if self._auth_task is not None:
            self._auth_task.cancel()
        if self.timers is not None:
            await self.timers.stop(grace=max(0.1, deadline - asyncio.get_running_loop().time()))
        if self.jobs is not None:
            await self.jobs.stop(grace=max(0.1, deadline - asyncio.get_running_loop().time()))
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        if not await self.deps.background.drain(remaining):
            log.warning("stopped with %d accepted requests unfinished", self.deps.background.pending)
        if self.events is not None:  # what it has not handled is handed over again after a restart
            await self.events.stop()
        if self.tracker_polling is not None:
            await self.tracker_polling.stop()
        if self.status_page is not None:
            await self.status_page.stop()
        for close in self.closing:
            await close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.http.close()
        await self.engine.dispose()

    async def _check_slack_once(self, *, fatal: bool) -> bool:
        try:
            identity = await self.deps.slack.who_am_i()
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            if fatal and error in AUTH_ERRORS:
                raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({error})") from None
            self.slack_status.failed(exc, AUTH_TEST)  # one line per outage, naming the URL
            self._retry_auth_later()
            return False
        # Updated in place: Bolt's authorize() reads the same object.
        self.identity.bot_user_id = identity.get("user_id")
        self.identity.bot_id = identity.get("bot_id")
        self.identity.team_id = identity.get("team_id")
        self.identity.enterprise_id = identity.get("enterprise_id") or None
        self.slack_status.answered(AUTH_TEST)
        return True

    def _retry_auth_later(self) -> None:
        async def retry() -> None:
            waits = delays(first=1.0, cap=AUTH_RETRY_SECONDS)
            answered = False
            while not answered:
                await asyncio.sleep(next(waits))
                answered = await self._check_slack_once(fatal=False)

        if self._auth_task is None or self._auth_task.done():
            self._auth_task = asyncio.create_task(retry())


async def build(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock = utc_now,
    post_interval: float = SLACK_POST_INTERVAL,
    header_interval: float = HEADER_EDIT_INTERVAL,
    tick_seconds: float | None = TICK_SECONDS,
    tier_minute: float = 60.0,  # how long Slack's rate-tier minute is (a test double's may be shorter)
) -> Tocsin:
    """Build one Tocsin process from its settings and policy (call inside the event loop); start() runs it.

    `tick_seconds=None` leaves the timer clock off (tests drive `tocsin.timers.tick()` themselves).
    """
    metrics = Metrics()
    identity = Identity()
    storage = wiring.storage_for(settings)
    slack = wiring.slack_for(settings, metrics, post_interval=post_interval, tier_minute=tier_minute)
    built = wiring.services(
        storage,
        slack,
        policy,
        metrics=metrics,
        identity=identity,
        clock=clock,
        header_interval=header_interval,
        public_url=settings.public_url,
        alert_tokens=tuple(t.get_secret_value() for t in settings.alert_tokens),
    )
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    tocsin = Tocsin(
        settings=settings,
        engine=storage.engine,
        http=slack.http,
        bolt=bolt_app(built.deps, slack.client, identity, signing_secret, built.listeners),
        web_app=web.Application(middlewares=[security_headers]),
        deps=built.deps,
        metrics=metrics,
        slack_status=SlackStatus(settings.slack_api_url),
        identity=identity,
        timers=built.timers,
        jobs=built.jobs,
        starting=built.starting,
        events=built.events,
        tracker_polling=built.tracker_polling,
        closing=built.closing,
        tick_seconds=tick_seconds,
    )
    if settings.slack_app_token is not None:
        tocsin.socket_mode = AsyncSocketModeHandler(
            tocsin.bolt, settings.slack_app_token.get_secret_value(), web_client=slack.client
        )
    add_routes(tocsin, signing_secret)
    for add_capability_routes in built.routes:
        add_capability_routes(tocsin.web_app)
    # Its refresher reads the database: started once the database is ready, stopped before it is closed.
    add_status_routes(tocsin.web_app, built.status_page, refresh_with_app=False)
    tocsin.status_page = built.status_page
    return tocsin
