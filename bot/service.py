"""Use cases: what Tocsin does for a request, over storage and the Slack gateway.

Listeners call these after acknowledging; each use case is atomic in the database and does its Slack
I/O in as few sequential round trips as the work allows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace

from sqlalchemy.exc import IntegrityError

from bot import blocks, cadence
from bot.channel_names import channel_name
from bot.incidents import IC_ROLE, Incident, NewIncident, TimelineEntry, TimelineKind
from bot.live_views import HomeKeeper
from bot.metrics import Metrics
from bot.mrkdwn import escape
from bot.paging import Pager
from bot.permissions import Act, require
from bot.policy import Policy
from bot.runbook_flow import RunbookService
from bot.services import pages_on_declare
from bot.slack_io import ReplyTarget, SlackGateway, slack_error
from bot.uow_types import Clock, UnitOfWorkFactory, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeclareOutcome:
    """What declaring did: the incident, whether this request created it, and what went wrong."""

    incident: Incident
    created: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class IncidentService:
    """The incident use cases with their dependencies."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    policy: Policy
    metrics: Metrics
    clock: Clock = utc_now
    home: HomeKeeper | None = None
    pager: Pager | None = None
    runbooks: RunbookService | None = None

    async def declare(
        self, new: NewIncident, *, reply_to: ReplyTarget | None, page_service: bool = True
    ) -> DeclareOutcome:
        """Declare: store the incident, open its channel, brief the team, tell the declarer."""
        require(Act.DECLARE, actor=new.declared_by, incident=None, policy=self.policy)
        started = self.clock()
        incident, created = await self.record_declaration(new)
        if not created:
            if reply_to is not None:
                await self.slack.reply(reply_to, blocks.declared_confirmation(incident, created=False))
            return DeclareOutcome(incident, created=False)
        self.metrics.incidents_declared.labels(incident.severity).inc()

        # Round trip 1: the channel. Everything else needs its ID.
        try:
            channel = await self.slack.create_channel(
                lambda attempt: channel_name(
                    self.policy.channel_prefix, incident.number, incident.title, attempt=attempt
                )
            )
        except Exception as exc:
            return await self._channel_failed(incident, reply_to, exc)
        incident = await self._record_channel(incident, channel.id, channel.name)

        # Round trip 2: every independent call at once.
        header_text, header_blocks = blocks.header_message(incident, self.policy, now=self.clock())
        announce_text, announce_blocks = blocks.announcement(incident)
        announce_to = self.policy.stakeholder_channels(incident.severity)
        steps: dict[str, Awaitable[object]] = {
            "invite": self.slack.invite(channel.id, [incident.declared_by]),
            "topic": self.slack.set_topic(channel.id, blocks.topic(incident)),
            "purpose": self.slack.set_purpose(channel.id, blocks.purpose(incident)),
            "header": self.slack.post(channel.id, header_text, header_blocks),
            **{f"announce {c}": self.slack.post(c, announce_text, announce_blocks) for c in announce_to},
        }
        if reply_to is not None:
            steps["confirm"] = self.slack.reply(reply_to, blocks.declared_confirmation(incident, created=True))
        if (
            page_service
            and self.pager is not None
            and pages_on_declare(incident.service, incident.severity, self.policy)
        ):
            steps["page"] = self.pager.page_service(
                incident, service=incident.service or "", actor=incident.declared_by, team_id=incident.team_id
            )
        results = dict(zip(steps, await asyncio.gather(*steps.values(), return_exceptions=True), strict=True))
        problems = [
            f"{step}: {slack_error(result)}" for step, result in results.items() if isinstance(result, BaseException)
        ]
        for step, result in results.items():
            if isinstance(result, BaseException):
                log.warning("declare %s: %s failed: %s", incident.reference, step, slack_error(result))
        header_ts = results["header"] if isinstance(results["header"], str) else None
        if isinstance(results.get("page"), BaseException):
            log.error(
                "declare %s: paging the %s on-call failed: %r", incident.reference, incident.service, results["page"]
            )
        announced = [c for c in announce_to if not isinstance(results[f"announce {c}"], BaseException)]
        topic = None if isinstance(results["topic"], BaseException) else blocks.topic(incident)
        await self._record_setup(incident, header_ts=header_ts, topic=topic, announced=announced, problems=problems)

        # Round trip 3 (the channel is already usable): pin the header, and tell the declarer of problems.
        follow_ups: list[Awaitable[object]] = []
        if header_ts:
            follow_ups.append(self.slack.pin(channel.id, header_ts))
        if problems and reply_to is not None:
            follow_ups.append(self.slack.reply(reply_to, _problems_text(incident, problems)))
        if self.home is not None:
            follow_ups.append(self.home.refresh(incident.team_id))
        if self.runbooks is not None:
            follow_ups.append(self.runbooks.post_matching(incident))
        for result in await asyncio.gather(*follow_ups, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("declare %s: follow-up failed: %s", incident.reference, slack_error(result))
        self.metrics.declare_setup_seconds.observe((self.clock() - started).total_seconds())
        return DeclareOutcome(incident, created=True, problems=problems)

    async def open_incidents(self, team_id: str) -> list[Incident]:
        """Open incidents, most severe first, then oldest first."""
        async with self.uow(read_only=True) as uow:
            incidents = await uow.incidents.open_incidents(team_id)
        order = {name: index for index, name in enumerate(self.policy.severity_names)}
        return sorted(incidents, key=lambda i: (order.get(i.severity, len(order)), i.number))

    async def record_declaration(self, new: NewIncident) -> tuple[Incident, bool]:
        """Store a declaration once: (the incident, True) the first time, (the same incident, False) after."""
        async with self.uow() as uow:
            if (existing := await uow.incidents.by_declare_key(new.declare_key)) is not None:
                return existing, False
            now = self.clock()
            number = await uow.incidents.next_number(new.team_id)
            due = cadence.due_on_declare(new.severity, now, self.policy)
            try:
                incident = await uow.incidents.add(new, number=number, now=now, next_update_due=due)
            except IntegrityError:
                duplicate = True  # the same request, delivered twice, won the race
            else:
                duplicate = False
                await uow.incidents.assign_role(
                    incident.id, role=IC_ROLE, user_id=new.declared_by, by=new.declared_by, now=now
                )
                await uow.incidents.record(
                    incident.id,
                    TimelineEntry(
                        TimelineKind.DECLARED, now, new.declared_by, f"Declared at {new.severity}: {new.title}"
                    ),
                    TimelineEntry(TimelineKind.ROLE_ASSIGNED, now, new.declared_by, "Incident Commander: the declarer"),
                )
                await uow.commit()
        if duplicate:
            async with self.uow() as uow:
                existing = await uow.incidents.by_declare_key(new.declare_key)
            assert existing is not None
            return existing, False
        return replace(incident, roles={IC_ROLE: new.declared_by}), True

    async def _record_channel(self, incident: Incident, channel_id: str, name: str) -> Incident:
        async with self.uow() as uow:
            await uow.incidents.set_channel(incident.id, channel_id=channel_id, channel_name=name)
            await uow.incidents.record(
                incident.id, TimelineEntry(TimelineKind.CHANNEL_CREATED, self.clock(), None, f"Channel #{name} created")
            )
            await uow.commit()
        return replace(incident, channel_id=channel_id, channel_name=name)

    async def _record_setup(
        self,
        incident: Incident,
        *,
        header_ts: str | None,
        topic: str | None,
        announced: list[str],
        problems: list[str],
    ) -> None:
        now = self.clock()
        entries = [TimelineEntry(TimelineKind.HEADER_POSTED, now, None, "Header posted")] if header_ts else []
        entries += [TimelineEntry(TimelineKind.ANNOUNCED, now, None, f"Announced in {c}") for c in announced]
        entries += [TimelineEntry(TimelineKind.SETUP_PROBLEM, now, None, problem) for problem in problems]
        async with self.uow() as uow:
            if header_ts:
                await uow.incidents.set_header(incident.id, header_ts=header_ts)
            if topic:
                await uow.incidents.update(incident.id, channel_topic=topic)
            await uow.incidents.record(incident.id, *entries)
            await uow.commit()

    async def _channel_failed(self, incident: Incident, reply_to: ReplyTarget | None, exc: Exception) -> DeclareOutcome:
        error = slack_error(exc)
        log.error("declare %s: could not create its channel: %s", incident.reference, error)
        async with self.uow() as uow:
            await uow.incidents.record(
                incident.id, TimelineEntry(TimelineKind.SETUP_PROBLEM, self.clock(), None, f"channel: {error}")
            )
            await uow.commit()
        if reply_to is None:
            return DeclareOutcome(incident, created=True, problems=[f"channel: {error}"])
        await self.slack.reply(
            reply_to,
            f":warning: {blocks.incident_title_line(incident)} is declared, but Slack refused to create its "
            f"channel ({error}). Check that Tocsin has the channels:manage scope, then try again.",
        )
        return DeclareOutcome(incident, created=True, problems=[f"channel: {error}"])


def _problems_text(incident: Incident, problems: list[str]) -> str:
    listed = "; ".join(problems)
    return (
        f":warning: {incident.reference} is set up, but some steps failed: {escape(listed)}. "
        "If an announcement failed with not_in_channel, invite Tocsin to that channel."
    )
