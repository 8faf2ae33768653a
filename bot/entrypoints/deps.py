"""What listeners are given: the use cases and the bits of process state they need."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.policy import Policy
from bot.runtime.background import Background
from bot.slack.gateway import SlackGateway
from bot.usecases.alert_intake import AlertIntake
from bot.usecases.capture import MessageCapture
from bot.usecases.declare import IncidentService
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.live_views import HomeKeeper
from bot.usecases.paging import Pager
from bot.usecases.postmortems import PostmortemService
from bot.usecases.respond import ResponseService
from bot.usecases.runbooks import RunbookService
from bot.usecases.stats import StatsReport


@dataclass(frozen=True)
class Deps:
    """Listener dependencies, built once by the composition root."""

    alerts: AlertIntake
    incidents: IncidentService
    response: ResponseService
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
