"""What listeners are given: every use case and the bits of process state they need (`Deps`), and each
surface's share of them (`Needs`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Self

from bot.domain.policy import Policy
from bot.entrypoints.api.registry import ApiDeps
from bot.entrypoints.command_families import CommandFamily
from bot.runtime.background import Background
from bot.slack.gateway import SlackGateway
from bot.usecases.alert_intake import AlertIntake
from bot.usecases.api_tokens import ApiTokens
from bot.usecases.capture import MessageCapture
from bot.usecases.catch_up import CatchUp
from bot.usecases.declare import IncidentService
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.going_public import GoingPublic
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.live_views import HomeKeeper
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock
from bot.usecases.postmortems import PostmortemService
from bot.usecases.respond import ResponseService
from bot.usecases.runbooks import RunbookService
from bot.usecases.stats import StatsReport
from bot.usecases.tracker_sync import TrackerSync
from bot.usecases.visibility import Visibility


@dataclass(frozen=True)
class Deps:
    """Listener dependencies, built once by the composition root."""

    alerts: AlertIntake
    incidents: IncidentService
    response: ResponseService
    lifecycle: Lifecycle
    capture: MessageCapture
    home: HomeKeeper
    pager: Pager
    runbooks: RunbookService
    slack: SlackGateway
    policy: Policy
    background: Background
    follow_ups: FollowUpService
    postmortems: PostmortemService
    stats: StatsReport
    catch_up: CatchUp
    going_public: GoingPublic
    visibility: Visibility
    clock: Clock  # when a request arrived
    api: ApiDeps  # the REST API's use cases
    api_tokens: ApiTokens  # the REST API's bearer tokens
    tracker_sync: TrackerSync  # follow-ups as tracker issues, both ways
    command_families: tuple[CommandFamily, ...] = ()  # the capabilities' own `/incident` subcommands


class Needs:
    """A surface's share of the dependencies: subclasses are frozen dataclasses whose fields are the
    `Deps` fields that surface uses, so each listener module is given only what it needs."""

    @classmethod
    def taken_from(cls, deps: Deps) -> Self:
        """This surface's fields, taken from the composition root's `Deps`."""
        chosen: dict[str, Any] = {f.name: getattr(deps, f.name) for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**chosen)
