"""Channels that tidy themselves away: with the policy's `archive_after`, an incident's channel is
archived that long after its postmortem is done (or after it is resolved, for a severity without a
postmortem: bot/domain/archives.py), warned a day before with a **Keep open** button. Reopening the
incident cancels both; so does Keep open. The two timers are scheduled jobs (`channel.archive_warning`,
`channel.archive`), keyed by the event that started them, so a second countdown after a reopen is a new
pair."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from bot.domain.archives import ARCHIVE_JOB, WARNING_JOB, archive_plan, counts_from, job_prefix
from bot.domain.errors import UserError
from bot.domain.events import DomainEvent, EventKind, IncidentStatusChanged, incident_event
from bot.domain.events_beyond import IncidentChannelArchived
from bot.domain.incidents import Incident, Status, TimelineEntry, TimelineKind
from bot.domain.jobs import Job, JobDone, JobOutcome, job_key
from bot.domain.policy import Policy
from bot.runtime.logs import event as log_event
from bot.usecases.changes import locked
from bot.usecases.channel_ports import ChannelTexts
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


async def cancel_archive(uow: UnitOfWork, incident_id: int) -> int:
    """Stop an incident's channel countdown (the warning and the archive), in the caller's transaction."""
    return sum([await uow.jobs.cancel_prefix(job_prefix(kind, incident_id)) for kind in (WARNING_JOB, ARCHIVE_JOB)])


@dataclass(frozen=True)
class ChannelArchives:
    """Plans, warns, archives, and keeps open on request."""

    uow: UnitOfWorkFactory
    slack: Slack
    texts: ChannelTexts
    policy: Policy
    clock: Clock
    wake_jobs: Callable[[], None]
    name: str = "channel-archives"
    kinds: Collection[EventKind] | None = frozenset({EventKind.INCIDENT_STATUS_CHANGED, EventKind.INCIDENT_REOPENED})

    # ----- the countdown ---------------------------------------------------------------------------
    async def handle(self, event: DomainEvent) -> None:
        """A postmortem done (or, without a postmortem, a resolution) starts the countdown; a reopen stops it."""
        incident_id = event.subject.incident_id
        if incident_id is None:
            return
        if event.kind is EventKind.INCIDENT_REOPENED:
            async with self.uow() as uow:
                await cancel_archive(uow, incident_id)
                await uow.commit()
            return
        data = event.data
        if not isinstance(data, IncidentStatusChanged):
            return
        async with self.uow() as uow:
            incident = await uow.incidents.get(incident_id)
            if incident is None or incident.channel_id is None:
                return
            if not counts_from(incident.severity, Status(data.status), self.policy):
                return
            when = archive_plan(self.policy, since=event.occurred_at)
            if when is None:
                return
            await uow.channels.remember(incident.id, incident.channel_id, incident.channel_name or incident.channel_id)
            await uow.channels.change(incident.channel_id, archive_due=when.archive_at, kept_by=None, warning_ts=None)
            payload = {"incident_id": incident.id, "channel_id": incident.channel_id}
            await uow.jobs.schedule(
                WARNING_JOB, job_key(WARNING_JOB, incident.id, event.id), due_at=when.warn_at, payload=payload
            )
            await uow.jobs.schedule(
                ARCHIVE_JOB, job_key(ARCHIVE_JOB, incident.id, event.id), due_at=when.archive_at, payload=payload
            )
            await uow.commit()
        log_event(log, "%s: its channel is archived at %s", incident.reference, when.archive_at.isoformat(),
                  incident=incident.reference, team=incident.team_id)  # fmt: skip
        if when.warn_at <= self.clock():
            self.wake_jobs()

    async def _still_due(self, job: Job) -> Incident | None:
        """The incident whose channel `job` is for, while the countdown still stands."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(int(job.payload["incident_id"]))
            channel = await uow.channels.channel(str(job.payload["channel_id"]))
        if incident is None or incident.status.is_open or incident.channel_id != job.payload["channel_id"]:
            return None
        if channel is None or channel.kept_by is not None or channel.archived_at is not None:
            return None
        return incident

    async def warn(self, job: Job) -> JobOutcome:
        """The `channel.archive_warning` job: the channel hears when it goes, with a Keep open button."""
        incident = await self._still_due(job)
        if incident is None or incident.channel_id is None:
            return JobDone("no longer due")
        async with self.uow(read_only=True) as uow:
            archive = await uow.jobs.pending_of_kind(ARCHIVE_JOB, prefix=job_prefix(ARCHIVE_JOB, incident.id))
        at = archive[0].due_at if archive else self.clock()
        ts = await self.slack.post(
            incident.channel_id, *self.texts.archive_warning(incident.id, incident.reference, at=at)
        )
        async with self.uow() as uow:
            await uow.channels.change(incident.channel_id, warning_ts=ts)
            await uow.commit()
        log_event(log, "%s: its channel was warned of its archive", incident.reference, incident=incident.reference,
                  team=incident.team_id)  # fmt: skip
        return JobDone()

    async def archive(self, job: Job) -> JobOutcome:
        """The `channel.archive` job: archive the channel (Slack refusing for now raises: tried again)."""
        incident = await self._still_due(job)
        if incident is None or incident.channel_id is None:
            return JobDone("no longer due")
        await self.slack.archive(incident.channel_id)
        now = self.clock()
        async with self.uow() as uow:
            await uow.channels.change(incident.channel_id, archived_at=now)
            note = f"Channel #{incident.channel_name or incident.channel_id} archived"
            await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.CHANNEL, now, None, note))
            archived = IncidentChannelArchived(channel_id=incident.channel_id)
            await uow.events.append(incident_event(archived, incident, actor=None, at=now))
            await uow.commit()
        log_event(log, "%s: its channel was archived", incident.reference, incident=incident.reference,
                  team=incident.team_id)  # fmt: skip
        return JobDone()

    # ----- Keep open --------------------------------------------------------------------------------
    async def keep_open(
        self, incident_id: int, *, actor: str, in_channel: str | None, at: datetime | None = None
    ) -> None:
        """Someone pressed Keep open: the countdown stops, and the warning says who kept it."""
        now = at or self.clock()
        async with self.uow() as uow:
            incident = await locked(uow, incident_id, in_channel)
            if incident.channel_id is None:
                raise UserError(f"{incident.reference} has no channel to keep open.")
            channel = await uow.channels.channel(incident.channel_id)
            if channel is None or channel.archived_at is not None:
                raise UserError("This channel is not waiting to be archived.")
            if channel.kept_by is not None:
                raise UserError(f"<@{channel.kept_by}> has kept this channel open already.")
            await cancel_archive(uow, incident.id)
            await uow.channels.change(incident.channel_id, kept_by=actor, archive_due=None)
            note = "Channel kept open (its archive was cancelled)"
            await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.CHANNEL, now, actor, note))
            await uow.commit()
        log_event(log, "%s: its channel is kept open (by %s)", incident.reference, actor, incident=incident.reference,
                  actor=actor, team=incident.team_id)  # fmt: skip
        if channel.warning_ts is not None:
            try:
                await self.slack.update_message(
                    incident.channel_id, channel.warning_ts, *self.texts.archive_kept(incident.reference, actor)
                )
            except Exception as exc:
                log.warning(
                    "%s: the archive warning was not updated: %s", incident.reference, getattr(exc, "error", exc)
                )
