"""The composition root: builds the Bolt app, the aiohttp server and everything they share."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ConfigError
from bot.domain.policy import Policy
from bot.domain.policy_file import runbooks_folder
from bot.domain.postmortem import load_template
from bot.domain.runbooks import RunbookLibrary
from bot.entrypoints import actions, commands, events, shortcuts
from bot.entrypoints import follow_up_controls as review_actions
from bot.entrypoints import modals as views
from bot.entrypoints.deps import Deps
from bot.entrypoints.error_replies import report_error
from bot.entrypoints.http import add_routes, register_error_handler
from bot.entrypoints.payloads import well_formed_payloads
from bot.entrypoints.timers import TICK_SECONDS, Timers
from bot.entrypoints.workspace_guard import only_our_workspace
from bot.runtime.background import Background
from bot.runtime.health import database_answers
from bot.runtime.logs import Outage
from bot.runtime.metrics import Metrics
from bot.runtime.slack_status import AUTH_ERRORS, AUTH_TEST, SlackStatus
from bot.runtime.startup import delays, wait_for_database, wait_for_slack
from bot.runtime.version import VERSION
from bot.settings import Settings
from bot.slack.gateway import SlackGateway
from bot.slack.web_client import SLACK_POST_INTERVAL, ChannelPacer, build_web_client
from bot.usecases.alert_intake import AlertIntake
from bot.usecases.capture import MessageCapture
from bot.usecases.catch_up import CatchUp
from bot.usecases.declare import IncidentService
from bot.usecases.directory import UserDirectory
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.going_public import GoingPublic
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.live_views import HEADER_EDIT_INTERVAL, HeaderKeeper, HomeKeeper
from bot.usecases.outbox import Outbox
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock, utc_now
from bot.usecases.postmortems import PostmortemService
from bot.usecases.reminders import Reminders
from bot.usecases.respond import ResponseService
from bot.usecases.runbooks import RunbookService
from bot.usecases.setup import IncidentSetup
from bot.usecases.stats import StatsReport
from bot.usecases.visibility import Visibility
from storage.db import create_engine, is_sqlite, open_pool, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork, count_commits

log = logging.getLogger(__name__)

AUTH_RETRY_SECONDS = 30.0  # the longest wait between bot-token checks while Slack is unreachable


@dataclass
class Health:
    """The bot's identity, from auth.test."""

    bot_user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None


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
    health: Health = field(default_factory=Health)
    database_outage: Outage = field(default_factory=lambda: Outage(log, "health check: the database"))
    timers: Timers | None = None
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
        self.deps.background.start()
        if self.timers is not None and self.tick_seconds is not None:
            self.timers.start(self.tick_seconds)
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
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        if not await self.deps.background.drain(remaining):
            log.warning("stopped with %d accepted requests unfinished", self.deps.background.pending)
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
        self.health.bot_user_id = identity.get("user_id")
        self.health.bot_id = identity.get("bot_id")
        self.health.team_id = identity.get("team_id")
        self.health.enterprise_id = identity.get("enterprise_id") or None
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
    """Wire one Tocsin process from its settings and policy (call inside the event loop).

    `tick_seconds=None` leaves the timer clock off (tests drive `tocsin.timers.tick()` themselves).
    """
    metrics = Metrics()
    health = Health()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    http = aiohttp.ClientSession()
    pacer = ChannelPacer(post_interval)  # shared: a post's 429 retry waits its turn in the channel's queue
    client = build_web_client(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=http,
        metrics=metrics,
        pacer=pacer,
        tier_minute=tier_minute,
    )
    slack = SlackGateway(client, http, pacer=pacer)

    writer_lock = asyncio.Lock() if is_sqlite(engine) else None  # SQLite: one writer at a time, in turn

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions, read_only=read_only, writer_lock=writer_lock)

    visibility = Visibility(slack)  # who may see a private incident: its channel's members, per Slack
    slack.after_invite = visibility.forget
    home = HomeKeeper(uow=uow, slack=slack, policy=policy, clock=clock, visibility=visibility)
    header = HeaderKeeper(uow=uow, slack=slack, policy=policy, clock=clock, min_interval=header_interval)
    directory = UserDirectory(slack=slack, policy=policy, clock=clock)  # whose the policy's e-mail addresses are
    pager = Pager(uow=uow, slack=slack, policy=policy, clock=clock, metrics=metrics, directory=directory)
    reminders = Reminders(slack=slack, policy=policy, metrics=metrics, clock=clock)
    follow_ups = FollowUpService(
        uow=uow, slack=slack, policy=policy, clock=clock, metrics=metrics, visibility=visibility
    )
    timers = Timers(uow=uow, reminders=reminders, pager=pager, clock=clock, follow_ups=follow_ups)
    postmortems = PostmortemService(
        uow=uow, slack=slack, policy=policy, clock=clock, template=load_template(policy.postmortem_template)
    )
    follow_ups.after_change = postmortems.refresh  # a published canvas shows the follow-ups' current state
    pager.wake = timers.wake
    runbooks = RunbookService(
        uow=uow, slack=slack, library=RunbookLibrary(runbooks_folder(policy)[0], policy), clock=clock
    )
    setup = IncidentSetup(
        uow=uow, slack=slack, policy=policy, clock=clock, header=header, home=home, pager=pager, runbooks=runbooks
    )
    incidents = IncidentService(
        uow=uow,
        slack=slack,
        policy=policy,
        metrics=metrics,
        clock=clock,
        setup=setup,
        visibility=visibility,
        directory=directory,
    )
    outbox = Outbox(uow=uow, slack=slack, clock=clock)
    timers.incidents, timers.outbox = incidents, outbox
    response = ResponseService(
        uow=uow,
        slack=slack,
        policy=policy,
        clock=clock,
        header=header,
        home=home,
        runbooks=runbooks,
        metrics=metrics,
        outbox=outbox,
        visibility=visibility,
        directory=directory,
    )
    lifecycle = Lifecycle(
        uow=uow,
        policy=policy,
        clock=clock,
        announce=response.announce,
        postmortems=postmortems,
        metrics=metrics,
        pager=pager,
        directory=directory,
    )

    catch_up = CatchUp(uow=uow, slack=slack, policy=policy, clock=clock, runbooks=runbooks)
    response.on_new_commander = catch_up.handover

    async def first_delivery(key: str) -> bool:
        async with uow() as unit:
            first = await unit.incidents.first_delivery(key, now=clock())
            await unit.commit()
        return first

    background = Background(
        metrics,
        on_error=lambda error, body: report_error(error, body, slack),
        count_commits=count_commits,
        first_delivery=first_delivery,
    )
    setup.detach = lambda job: background.submit({}, job, urgent=True, retry=False)
    intake = AlertIntake(
        uow=uow,
        slack=slack,
        policy=policy,
        clock=clock,
        pager=pager,
        incidents=incidents,
        background=background,
        workspace=lambda: (health.team_id or "", health.bot_user_id or ""),
    )
    deps = Deps(
        alerts=intake,
        incidents=incidents,
        response=response,
        lifecycle=lifecycle,
        capture=MessageCapture(uow=uow, slack=slack, clock=clock),
        home=home,
        pager=pager,
        runbooks=runbooks,
        slack=slack,
        policy=policy,
        background=background,
        follow_ups=follow_ups,
        postmortems=postmortems,
        stats=StatsReport(uow=uow, slack=slack, policy=policy, clock=clock),
        catch_up=catch_up,
        going_public=GoingPublic(uow=uow, slack=slack, policy=policy, clock=clock, setup=setup, directory=directory),
        visibility=visibility,
        clock=clock,
    )

    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""

    async def authorize(**_: Any) -> AuthorizeResult:
        # Bolt's default calls auth.test before the first listener runs, i.e. before the ack; we answer
        # from the identity start() already fetched, so no request waits on Slack to be acknowledged.
        return AuthorizeResult(
            enterprise_id=health.enterprise_id,
            team_id=health.team_id,
            bot_user_id=health.bot_user_id,
            bot_id=health.bot_id,
            bot_token=client.token,
        )

    bolt = AsyncApp(
        client=client,
        authorize=authorize,
        signing_secret=signing_secret,
        # Listeners ack and hand their work to `background`, so Bolt can answer as soon as they return.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("bot.bolt"),
    )
    bolt.use(well_formed_payloads())
    bolt.use(only_our_workspace(lambda: (health.team_id, health.enterprise_id)))
    commands.register(bolt, deps)
    views.register(bolt, views.FormDeps.taken_from(deps))
    actions.register(bolt, actions.ActionDeps.taken_from(deps))
    review_actions.register(bolt, review_actions.FollowUpDeps.taken_from(deps))
    events.register(bolt, events.EventDeps.taken_from(deps))
    shortcuts.register(bolt, shortcuts.ShortcutDeps.taken_from(deps))
    register_error_handler(bolt, slack)

    tocsin = Tocsin(
        settings=settings,
        engine=engine,
        http=http,
        bolt=bolt,
        web_app=web.Application(),
        deps=deps,
        metrics=metrics,
        slack_status=SlackStatus(settings.slack_api_url),
        health=health,
        timers=timers,
        tick_seconds=tick_seconds,
    )
    if settings.slack_app_token is not None:
        tocsin.socket_mode = AsyncSocketModeHandler(
            bolt, settings.slack_app_token.get_secret_value(), web_client=client
        )
    add_routes(tocsin, signing_secret)
    return tocsin
