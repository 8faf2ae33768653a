"""`/incident stats`: the metrics from SQL, a chart of MTTR by week, shown privately or shared."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import ChartError, SlackRefused, slack_error
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.stats import IncidentStats
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class StatsReport:
    """Computes and shows incident metrics."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock

    async def compute(self, team_id: str, *, days: int | None, incident_type: str | None = None) -> IncidentStats:
        """The figures for the last `days` days (None: all time), of one incident type if given."""
        now = self.clock()
        since = now - timedelta(days=days) if days is not None else None
        today = now.astimezone(ZoneInfo(self.policy.timezone)).date()
        async with self.uow(read_only=True) as uow:
            return await uow.stats.incident_stats(
                team_id, since=since, now=now, today=today, incident_type=incident_type
            )

    async def open_by_severity(self) -> dict[str, int]:
        """Open incidents per severity in every workspace (the /metrics gauge)."""
        async with self.uow(read_only=True) as uow:
            return await uow.stats.open_by_severity()

    async def chart(self, stats: IncidentStats) -> bytes | None:
        """The MTTR-by-week PNG, drawn in a worker thread; None when nothing was resolved or it cannot be drawn."""
        if not stats.weekly_mttr:
            return None
        colours = {s.name: s.colour for s in self.policy.severities}
        try:
            return await asyncio.to_thread(
                self.messages.mttr_by_week_png, stats.weekly_mttr, self.policy.severity_names, colours
            )
        except ChartError as exc:  # the figures still go out without the picture
            log.warning("the stats chart could not be drawn, so the figures go without it (%s)", exc)
            return None

    async def show(
        self, *, team_id: str, days: int | None, share: bool, reply_to: ReplyTarget, incident_type: str | None = None
    ) -> None:
        """The figures (of one incident type, if given) with the chart as an image block: privately, or
        (`share`) posted in the channel.

        The PNG is uploaded unshared and shown by file ID, so sharing needs no channel membership.
        """
        stats = await self.compute(team_id, days=days, incident_type=incident_type)
        window = f"last {days} days" if days is not None else "all time"
        if incident_type is not None:
            window += f" · {incident_type} incidents only"
        png = await self.chart(stats)
        chart_id = await self._upload(png) if png is not None else None
        message = self.messages.stats_message(stats, window=window, chart_file_id=chart_id)
        if share and reply_to.channel_id:
            await self.slack.post(reply_to.channel_id, *message)
        else:
            await self.slack.reply(reply_to, *message)

    async def _upload(self, png: bytes) -> str | None:
        try:
            uploaded = await self.slack.upload(
                filename="mttr-by-week.png", content=png, title="MTTR by severity, per week"
            )
        except SlackRefused as exc:  # the figures still go out without the picture
            log.warning("the stats chart could not be uploaded (%s)", slack_error(exc))
            return None
        return uploaded.id
