"""The pages beyond incidents: follow-ups (open, overdue, by owner), the stats `/incident stats` shows with
its chart, and who is on call."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from aiohttp import web

from bot.domain.errors import ChartError
from bot.domain.follow_ups import FollowUp
from bot.domain.policy import Policy
from bot.entrypoints.web.people import People
from bot.entrypoints.web.queries import follow_up_query, stats_window
from bot.entrypoints.web.reads import Viewer, WebReads
from bot.entrypoints.web.render import Renderer
from bot.entrypoints.web.sessions import Session
from bot.slack.charts import mttr_by_week_png
from bot.usecases.ports import Clock

log = logging.getLogger(__name__)

FOLLOW_UPS_PAGE = 100
WEEKS_SHOWN = 12  # as `/incident stats` shows them


@dataclass
class ReportPages:
    """The handlers of the follow-ups, stats and on-call pages."""

    reads: WebReads
    people: People
    render: Renderer
    policy: Policy
    clock: Clock

    async def follow_ups(self, request: web.Request, session: Session) -> web.StreamResponse:
        """`GET /follow-ups`: follow-ups of the incidents the person may see, grouped by owner."""
        asked = follow_up_query(request.query, me=session.user_id)
        found = await self.reads.follow_ups(
            Viewer(session.user_id, session.team_id),
            state=None if asked.state == "all" else asked.state,
            owner=asked.owner or None,
            overdue=True if asked.overdue else None,
            after=asked.after,
            limit=FOLLOW_UPS_PAGE,
        )
        by_owner: dict[str, list[FollowUp]] = defaultdict(list)
        for item in found.items:
            by_owner[item.owner or ""].append(item)
        names = await self.people.names([*by_owner, asked.owner])
        groups = sorted(by_owner.items(), key=lambda group: (group[0] == "", names.get(group[0], group[0]).lower()))
        return self.render.page(
            "follow_ups.html",
            session=session,
            section="follow-ups",
            asked=asked,
            groups=groups,
            count=len(found.items),
            today=self.reads.today(),
            next_url=asked.next_url(found.after) if found.after is not None else None,
            names=names,
        )

    async def stats(self, request: web.Request, session: Session) -> web.StreamResponse:
        """`GET /stats`: MTTD, MTTA and MTTR per severity, weekly frequency, repeats, detection, follow-ups."""
        window, days = stats_window(request.query)
        stats = await self.reads.stats(Viewer(session.user_id, session.team_id), days=days)
        chart = await self._chart(stats.weekly_mttr) if stats.weekly_mttr else None
        return self.render.page(
            "stats.html",
            session=session,
            section="stats",
            window=window,
            stats=stats,
            weeks=list(stats.weekly.items())[-WEEKS_SHOWN:],
            chart=chart,
        )

    async def on_call(self, request: web.Request, session: Session) -> web.StreamResponse:
        """`GET /oncall`: who each schedule has on call now, the next handoff, and the services it covers."""
        rows = self.reads.on_call()
        covers: dict[str, list[str]] = defaultdict(list)
        for name, service in sorted(self.policy.services.items()):
            plan = self.policy.escalation_policies.get(service.escalation_policy or "")
            targets = {t for tier in plan.tiers for t in tier.notify} if plan else set()
            for schedule in self.policy.schedules:
                if f"schedule:{schedule}" in targets:
                    covers[schedule].append(name)
        names = await self.people.names(u for row in rows for u in (row.user, row.next_user))
        return self.render.page(
            "oncall.html", session=session, section="oncall", rows=rows, covers=covers, names=names, now=self.clock()
        )

    async def _chart(self, weekly_mttr: dict[date, dict[str, float]]) -> str | None:
        """The MTTR-by-week chart as a data: URI (drawn in a worker thread); None when it cannot be drawn."""
        colours = {s.name: s.colour for s in self.policy.severities}
        try:
            png = await asyncio.to_thread(mttr_by_week_png, weekly_mttr, self.policy.severity_names, colours)
        except ChartError as exc:
            log.warning("web stats: the chart could not be drawn, so the figures go without it (%s)", exc)
            return None
        return "data:image/png;base64," + base64.b64encode(png).decode()
