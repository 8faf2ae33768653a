"""What listeners are given: the use cases and the bits of process state they need."""

from __future__ import annotations

from dataclasses import dataclass

from bot.alert_intake import AlertIntake
from bot.background import Background
from bot.followup_flow import FollowUpService
from bot.live_views import HomeKeeper
from bot.paging import Pager
from bot.policy import Policy
from bot.postmortem_flow import PostmortemService
from bot.response import ResponseService
from bot.runbook_flow import RunbookService
from bot.service import IncidentService
from bot.slack_io import SlackGateway
from bot.stats_report import StatsReport


@dataclass(frozen=True)
class Deps:
    """Listener dependencies, built once by the composition root."""

    alerts: AlertIntake
    incidents: IncidentService
    response: ResponseService
    home: HomeKeeper
    pager: Pager
    runbooks: RunbookService
    slack: SlackGateway
    policy: Policy
    background: Background
    follow_ups: FollowUpService
    postmortems: PostmortemService
    stats: StatsReport
