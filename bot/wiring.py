"""Building a Tocsin process's parts from its settings and policy, top to bottom: storage, Slack, the use
cases, the event log's subscribers, and the Bolt app that listens for Slack. Every object is built with
everything it needs and never changed afterwards; an effect that reaches beyond one change is an event-log
subscriber. Starting and stopping the parts is bot/app.py's (Tocsin)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypedDict

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.policy import Policy
from bot.domain.policy_file import runbooks_folder
from bot.domain.postmortem import load_template
from bot.domain.runbooks import RunbookLibrary
from bot.entrypoints.api.registry import ApiDeps
from bot.entrypoints.capabilities import Base, Core, assemble, hooks_of
from bot.entrypoints.capabilities.all import CAPABILITIES
from bot.entrypoints.deps import Deps
from bot.entrypoints.error_replies import report_error
from bot.entrypoints.event_dispatch import EventDispatch
from bot.entrypoints.job_runner import JobRunner
from bot.entrypoints.status import StatusPage
from bot.entrypoints.timers import Timers
from bot.entrypoints.tracker_polling import TrackerPolling
from bot.runtime.background import Background
from bot.runtime.doorbell import Doorbell
from bot.runtime.health import Identity
from bot.runtime.member_cache import MemberCache
from bot.runtime.metrics import Metrics
from bot.runtime.statuspage_client import HttpStatuspage
from bot.runtime.trackers import build_trackers
from bot.runtime.webhook_sender import HttpWebhookSender
from bot.settings import Settings
from bot.slack import messages as ui  # the message catalogue the use cases show things with
from bot.slack.gateway import SlackGateway
from bot.slack.web_client import ChannelPacer, build_web_client
from bot.usecases.alert_intake import AlertIntake
from bot.usecases.api_reads import ApiReads
from bot.usecases.api_tokens import ApiTokens
from bot.usecases.api_writes import ApiWrites
from bot.usecases.capture import MessageCapture
from bot.usecases.catch_up import CatchUp
from bot.usecases.declare import IncidentService
from bot.usecases.directory import UserDirectory
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.going_public import GoingPublic
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.message_ports import Messages
from bot.usecases.outbox import Outbox
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock
from bot.usecases.postmortems import PostmortemService
from bot.usecases.reminders import Reminders
from bot.usecases.respond import ResponseService
from bot.usecases.runbooks import RunbookService
from bot.usecases.setup import IncidentSetup
from bot.usecases.stats import StatsReport
from bot.usecases.status_board import StatusBoard
from bot.usecases.status_mirror import statuspage_mirror
from bot.usecases.subscribers import CommanderHandover, PostmortemRefresh
from bot.usecases.tracker_sync import TrackerSync
from bot.usecases.visibility import Visibility
from bot.usecases.webhooks import webhook_subscribers
from storage.db import create_engine, is_sqlite, pool_size, session_factory
from storage.incident_queries import IncidentQueries
from storage.uow import UnitOfWork, count_commits
from storage.writer_queue import WriterQueue, writes_first


@dataclass(frozen=True)
class Storage:
    """The database: its engine, and units of work that ring `events_committed` when they commit events."""

    engine: AsyncEngine
    uow: Callable[..., UnitOfWork]
    events_committed: Doorbell
    queries: IncidentQueries  # the API's filtered reads, each in a read-only session of its own


def storage_for(settings: Settings) -> Storage:
    """The engine and the unit-of-work factory: writers queue in this process, page steps and people's
    quick requests first (SQLite: one at a time; PostgreSQL: as many as the pool holds)."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = session_factory(engine)
    writer = WriterQueue() if is_sqlite(engine) else WriterQueue(capacity=pool_size(engine))
    events_committed = Doorbell()

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions, read_only=read_only, writer_lock=writer, events_committed=events_committed.ring)

    return Storage(engine, uow, events_committed, IncidentQueries(sessions))


@dataclass(frozen=True)
class SlackSide:
    """How Tocsin reaches Slack: the HTTP session, the Web API client and the gateway over it."""

    http: aiohttp.ClientSession
    client: AsyncWebClient
    gateway: SlackGateway
    members: MemberCache  # channel members as Slack last said; the gateway forgets a channel it invites to


def slack_for(settings: Settings, metrics: Metrics, *, post_interval: float, tier_minute: float) -> SlackSide:
    """The client, paced per channel and per rate tier, and the gateway the use cases talk to."""
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
    members = MemberCache()
    return SlackSide(http, client, SlackGateway(client, http, pacer=pacer, members_changed=members.forget), members)


class Common(TypedDict):
    """What most use cases are built with."""

    uow: Callable[..., UnitOfWork]
    slack: SlackGateway
    messages: Messages
    clock: Clock


@dataclass(frozen=True)
class Services:
    """Everything the surfaces use, the timers, and the event log's dispatch."""

    deps: Deps
    timers: Timers
    events: EventDispatch
    tracker_polling: TrackerPolling  # open follow-ups' issues looked at every 10 minutes, leased
    status_page: StatusPage  # the public status page, served from a snapshot the event log refreshes
    jobs: JobRunner  # the scheduled jobs' clock (contact attempts, handoffs, heartbeats, archives…)
    listeners: tuple[Callable[[AsyncApp], None], ...] = ()  # the capabilities' Bolt listeners
    routes: tuple[Callable[[web.Application], None], ...] = ()  # the capabilities' HTTP routes
    starting: tuple[Callable[[], Awaitable[None]], ...] = ()  # the capabilities' start, once the database is ready
    closing: tuple[Callable[[], Awaitable[None]], ...] = ()  # outside services' sessions, closed at stop


def services(
    storage: Storage,
    slack_side: SlackSide,
    policy: Policy,
    *,
    metrics: Metrics,
    identity: Identity,
    clock: Clock,
    header_interval: float,
    public_url: str | None = None,
    alert_tokens: tuple[str, ...] = (),
) -> Services:
    """Build the use cases in the order they need each other (`public_url`: where the web pages are, for
    links from outside Slack)."""
    uow, slack = storage.uow, slack_side.gateway
    common = Common(uow=uow, slack=slack, messages=ui, clock=clock)
    directory = UserDirectory(slack=slack, policy=policy, clock=clock)  # whose the policy's e-mail addresses are
    pages_started = Doorbell()  # the timers tick at once to send a new page's first step
    jobs_planned = Doorbell()  # the job runner ticks at once to fire a job planned due now
    base = Base(
        **common,
        policy=policy,
        metrics=metrics,
        http=slack_side.http,
        environ=os.environ,
        public_url=public_url,
        directory=directory,
        wake_jobs=jobs_planned.ring,
        wake_timers=pages_started.ring,
        alert_tokens=alert_tokens,
    )
    capabilities = [build(base) for build in CAPABILITIES]
    hooks = hooks_of(capabilities)
    visibility = Visibility(slack, members=slack_side.members)  # who may see a private incident, per Slack
    home = HomeKeeper(**common, policy=policy, visibility=visibility, sections=hooks.home_sections)
    header = HeaderKeeper(**common, policy=policy, min_interval=header_interval)
    pager = Pager(**common, policy=policy, metrics=metrics, directory=directory, wake=pages_started.ring, hooks=hooks)
    reminders = Reminders(slack=slack, messages=ui, policy=policy, metrics=metrics, clock=clock)
    follow_ups = FollowUpService(**common, policy=policy, metrics=metrics, visibility=visibility)
    template = load_template(policy.postmortem_template)
    postmortems = PostmortemService(**common, policy=policy, template=template)
    library = RunbookLibrary(runbooks_folder(policy)[0], policy)
    runbooks = RunbookService(**common, library=library)
    background = _background(uow, slack, metrics, clock)
    setup = IncidentSetup(
        **common,
        policy=policy,
        header=header,
        home=home,
        pager=pager.starts,  # a declare's page of the service's on-call
        runbooks=runbooks,
        extra_steps=hooks.setup_steps,
        silences=hooks.silences,
        # the rest of a declare's set-up runs outside the worker pool, tracked so a stop waits for it
        detach=lambda job: background.submit({}, job, urgent=True, retry=False),
    )
    incidents = IncidentService(
        **common, policy=policy, metrics=metrics, setup=setup, visibility=visibility, directory=directory
    )
    outbox = Outbox(**common)
    response = ResponseService(
        **common,
        policy=policy,
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
        messages=ui,
        policy=policy,
        clock=clock,
        announce=response.announce,
        postmortems=postmortems,
        metrics=metrics,
        pager=pager,
        directory=directory,
    )
    catch_up = CatchUp(**common, policy=policy, runbooks=runbooks, context=hooks.summary)
    timers = Timers(
        uow=uow,
        reminders=reminders,
        pager=pager,
        clock=clock,
        follow_ups=follow_ups,
        incidents=incidents,
        outbox=outbox,
        pages_started=pages_started,
    )
    webhook_sender = HttpWebhookSender()  # outgoing webhooks: a session of their own, closed at stop
    webhooks = webhook_subscribers(
        policy,
        sender=webhook_sender,
        slack=slack,
        messages=ui,
        uow=uow,
        clock=clock,
        metrics=metrics,
        environ=os.environ,
    )
    tracker_sync = TrackerSync(
        uow=uow,
        trackers=build_trackers(policy, slack_side.http, os.environ),
        policy=policy,
        slack=slack,
        clock=clock,
        metrics=metrics,
        email_of=slack.email_of,  # the owner's e-mail finds their user in the tracker
        incident_link=lambda i: f"{public_url}/incidents/{i.reference}" if public_url else None,
        postmortem_link=lambda i: f"{public_url}/incidents/{i.reference}/postmortem" if public_url else None,
    )
    statuspage_api = HttpStatuspage()  # the Statuspage mirror's own session, closed at stop
    mirror = statuspage_mirror(policy, api=statuspage_api, uow=uow, clock=clock, environ=os.environ)
    status_page = StatusPage(
        StatusBoard(uow=uow, policy=policy, clock=clock),
        public_url=public_url or "http://localhost:3000",
        doorbell=storage.events_committed,
    )
    intake = AlertIntake(
        **common,
        policy=policy,
        pager=pager,
        incidents=incidents,
        background=background,
        workspace=lambda: (identity.team_id or "", identity.bot_user_id or ""),
        silences=hooks.silences,
    )
    stats = StatsReport(**common, policy=policy)
    core = Core(
        pager=pager,
        incidents=incidents,
        response=response,
        lifecycle=lifecycle,
        header=header,
        home=home,
        catch_up=catch_up,
        postmortems=postmortems,
        visibility=visibility,
        alerts=intake,
        setup=setup,
        follow_ups=follow_ups,
        stats=stats,
        background=background,
        hooks=hooks,
    )
    added = assemble(capabilities, core)
    jobs = JobRunner(uow, added.jobs, clock, metrics, planned=jobs_planned)
    dispatch = EventDispatch(
        uow,
        [
            PostmortemRefresh(postmortems),
            CommanderHandover(uow, catch_up),
            *webhooks,
            tracker_sync,
            *([mirror] if mirror else []),
            *added.subscribers,
        ],
        clock,
        metrics,
        doorbell=storage.events_committed,
    )
    reads = ApiReads(uow=uow, queries=storage.queries, policy=policy, clock=clock, postmortems=postmortems)
    api = ApiDeps(
        reads=reads,
        writes=ApiWrites(
            uow=uow,
            reads=reads,
            incidents=incidents,
            response=response,
            lifecycle=lifecycle,
            follow_ups=follow_ups,
            policy=policy,
            clock=clock,
            # an API declare's set-up in Slack runs like a Slack declare's, after the API has answered
            detach=lambda job: background.submit({}, job, long=True, retry=False),
        ),
    )
    deps = Deps(
        alerts=intake,
        incidents=incidents,
        response=response,
        lifecycle=lifecycle,
        capture=MessageCapture(**common),
        home=home,
        pager=pager,
        runbooks=runbooks,
        slack=slack,
        policy=policy,
        background=background,
        follow_ups=follow_ups,
        postmortems=postmortems,
        stats=stats,
        catch_up=catch_up,
        going_public=GoingPublic(**common, policy=policy, setup=setup, directory=directory),
        visibility=visibility,
        clock=clock,
        api=api,
        api_tokens=ApiTokens(uow, clock),
        tracker_sync=tracker_sync,
        command_families=added.commands,
    )
    closing = (webhook_sender.close, statuspage_api.close, *added.closing)
    return Services(
        deps,
        timers,
        dispatch,
        TrackerPolling(tracker_sync),
        status_page,
        jobs=jobs,
        listeners=added.listeners,
        routes=added.routes,
        starting=added.starting,
        closing=closing,
    )


def _background(uow: Callable[..., UnitOfWork], slack: SlackGateway, metrics: Metrics, clock: Clock) -> Background:
    async def first_delivery(key: str) -> bool:
        async with uow() as unit:
            first = await unit.incidents.first_delivery(key, now=clock())
            await unit.commit()
        return first

    return Background(
        metrics,
        on_error=lambda error, body: report_error(error, body, slack),
        count_commits=count_commits,
        first_delivery=first_delivery,
        hurry=writes_first,  # a person's quick request writes ahead of bulk work on SQLite
    )
