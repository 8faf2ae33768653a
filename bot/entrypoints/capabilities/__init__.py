"""The capabilities beyond running an incident in Slack: waking people (contacts), on-call life (shifts,
handovers, watch: heartbeats and maintenance) and the channel as a workspace (channel, related,
incident_types). Each module builds one from the `Base` the composition root gives it: first its hooks
into the core (bot/usecases/hooks.py), then, once the core is built, its surfaces (jobs, event-log
subscribers, `/incident` subcommands, Bolt listeners, HTTP routes)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.entrypoints.command_families import CommandFamily
from bot.usecases.hooks import Hooks
from bot.usecases.job_ports import JobHandler

if TYPE_CHECKING:  # types only
    import aiohttp
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp

    from bot.domain.policy import Policy
    from bot.runtime.background import Background
    from bot.runtime.metrics import Metrics
    from bot.slack.gateway import SlackGateway
    from bot.usecases.alert_intake import AlertIntake
    from bot.usecases.catch_up import CatchUp
    from bot.usecases.declare import IncidentService
    from bot.usecases.directory import UserDirectory
    from bot.usecases.follow_ups import FollowUpService
    from bot.usecases.lifecycle import Lifecycle
    from bot.usecases.live_views import HeaderKeeper, HomeKeeper
    from bot.usecases.message_ports import Messages
    from bot.usecases.paging import Pager
    from bot.usecases.ports import Clock, UnitOfWorkFactory
    from bot.usecases.postmortems import PostmortemService
    from bot.usecases.respond import ResponseService
    from bot.usecases.setup import IncidentSetup
    from bot.usecases.stats import StatsReport
    from bot.usecases.visibility import Visibility


@dataclass(frozen=True)
class Base:
    """What every capability is built from, before the core's use cases exist."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    messages: Messages
    clock: Clock
    policy: Policy
    metrics: Metrics
    http: aiohttp.ClientSession  # for outside services (a capability may also open its own, closed at stop)
    environ: Mapping[str, str]  # where credentials named by the policy (`*_env`) are read
    public_url: str | None  # where people reach Tocsin's HTTP side (links, callbacks, feeds)
    directory: UserDirectory  # whose the policy's e-mail addresses are
    wake_jobs: Callable[[], None]  # a job due now was planned: the job runner ticks at once
    wake_timers: Callable[[], None]  # a page step is due now: the timers tick at once
    alert_tokens: tuple[str, ...] = ()  # bearer tokens alert senders (and heartbeats) may present


@dataclass(frozen=True)
class Core:
    """The core's use cases, built with the capabilities' hooks."""

    pager: Pager
    incidents: IncidentService
    response: ResponseService
    lifecycle: Lifecycle
    header: HeaderKeeper
    home: HomeKeeper
    catch_up: CatchUp
    postmortems: PostmortemService
    visibility: Visibility
    alerts: AlertIntake
    setup: IncidentSetup
    follow_ups: FollowUpService
    stats: StatsReport
    background: Background
    hooks: Hooks  # every capability's hooks, merged: one capability may use another's (the schedules…)


@dataclass(frozen=True)
class Surfaces:
    """How a capability is reached: its jobs' handlers (by kind), its event-log subscribers, its
    `/incident` subcommands, its Bolt listeners (buttons, forms), its HTTP routes, and what to close at stop."""

    jobs: Mapping[str, JobHandler] = field(default_factory=dict)
    subscribers: tuple[Any, ...] = ()
    commands: CommandFamily | None = None
    listeners: Callable[[AsyncApp], None] | None = None
    routes: Callable[[web.Application], None] | None = None
    closing: tuple[Callable[[], Awaitable[None]], ...] = ()
    starting: tuple[Callable[[], Awaitable[None]], ...] = ()  # once the database is ready (plan first jobs…)


class Capability(Protocol):
    """One capability, built in two steps (hooks first: the core is built with them)."""

    name: str

    def hooks(self) -> Hooks:
        """What the core calls into."""
        ...

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        ...


@dataclass(frozen=True)
class Assembled:
    """Every capability's surfaces, put together for the composition root."""

    jobs: Mapping[str, JobHandler]
    subscribers: tuple[Any, ...]
    commands: tuple[CommandFamily, ...]
    listeners: tuple[Callable[[AsyncApp], None], ...]
    routes: tuple[Callable[[web.Application], None], ...]
    closing: tuple[Callable[[], Awaitable[None]], ...]
    starting: tuple[Callable[[], Awaitable[None]], ...]


def hooks_of(capabilities: Sequence[Capability]) -> Hooks:
    """The capabilities' hooks, merged."""
    return functools.reduce(Hooks.merged, (c.hooks() for c in capabilities), Hooks())


def assemble(capabilities: Sequence[Capability], core: Core) -> Assembled:
    """Build each capability's surfaces on the core and put them together (a job kind handled twice is a
    wiring mistake)."""
    built = [c.surfaces(core) for c in capabilities]
    jobs: dict[str, JobHandler] = {}
    for surface in built:
        for kind, handler in surface.jobs.items():
            if kind in jobs:
                raise ValueError(f"two capabilities handle the {kind} job")
            jobs[kind] = handler
    return Assembled(
        jobs=jobs,
        subscribers=tuple(s for surface in built for s in surface.subscribers),
        commands=tuple(surface.commands for surface in built if surface.commands is not None),
        listeners=tuple(surface.listeners for surface in built if surface.listeners is not None),
        routes=tuple(surface.routes for surface in built if surface.routes is not None),
        closing=tuple(c for surface in built for c in surface.closing),
        starting=tuple(s for surface in built for s in surface.starting),
    )
