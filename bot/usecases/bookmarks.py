"""Keeping an incident channel's bookmarks current: the call, the pinned header, the alert it was declared
from, its type's URL fields, each posted runbook, the postmortem draft, the status page once the incident
is on it, its follow-ups' tracker issues and, in a continuation channel, the channel before. An event-log
subscriber (and a set-up step, and a `bookmarks.sync` job a little after a change whose link may come
later: a tracker issue, a runbook, the alert group an incident declared from an alert is linked to).

Each pass reads what the channel should have and what Tocsin keeps, and makes only the difference. A
refusal that will not change (a free plan, a missing scope) is logged once per channel and the rest of
Tocsin carries on; a bookmark Slack refuses on its own (a bad link) is skipped; Slack busy or away is
raised, so the event log tries the change again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from bot.domain.bookmarks import ChannelThings, KeptBookmark, plan, wanted
from bot.domain.custom_fields import url_fields
from bot.domain.errors import SlackError
from bot.domain.events import DomainEvent, EventKind, IncidentDeclared
from bot.domain.incidents import DetectedVia, Incident
from bot.domain.jobs import Job, JobDone, JobOutcome, job_key
from bot.domain.policy import Policy
from bot.usecases.channel_ports import ChannelBookmarks
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory
from bot.usecases.setup_run import SetupRun, SetupTools

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SYNC_JOB = "bookmarks.sync"
SYNC_AGAIN_AFTER = timedelta(seconds=30)  # a follow-up's issue, or a new severity's runbooks, come a little later
# Refusals that say bookmarks cannot be made in this workspace or channel at all (not one bookmark's fault).
WORKSPACE_REFUSALS = frozenset(
    {"restricted_action", "missing_scope", "not_allowed", "not_allowed_token_type", "paid_only", "not_in_channel",
     "is_archived", "channel_not_found", "access_denied", "team_access_not_granted"}
)  # fmt: skip
_LATER = frozenset({EventKind.FOLLOW_UP_CREATED, EventKind.INCIDENT_SEVERITY_CHANGED})


@dataclass(frozen=True)
class BookmarkKeeper:
    """Makes an incident channel's bookmarks match what the incident has."""

    uow: UnitOfWorkFactory
    slack: Slack
    bookmarks: ChannelBookmarks
    clock: Clock
    wake_jobs: Callable[[], None]
    policy: Policy  # the incident types' URL fields
    public_url: str | None = None  # where the status page is, for its bookmark
    name: str = "channel-bookmarks"
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    kinds: Collection[EventKind] | None = frozenset(
        {
            EventKind.INCIDENT_DECLARED,
            EventKind.INCIDENT_BRIDGE_SET,
            EventKind.INCIDENT_SEVERITY_CHANGED,
            EventKind.POSTMORTEM_PUBLISHED,
            EventKind.INCIDENT_PUBLISHED_UPDATE,
            EventKind.FOLLOW_UP_CREATED,
            EventKind.INCIDENT_CHANNEL_CONTINUED,
            EventKind.INCIDENT_FIELD_SET,
        }
    )

    async def handle(self, event: DomainEvent) -> None:
        """Bring the bookmarks up to date now, and once more a little later when the link may come after."""
        incident_id = event.subject.incident_id
        if incident_id is None:
            return
        if event.kind in _LATER or _from_an_alert(event):
            async with self.uow() as uow:
                key = job_key(SYNC_JOB, incident_id, event.id)
                await uow.jobs.schedule(
                    SYNC_JOB, key, due_at=self.clock() + SYNC_AGAIN_AFTER, payload={"incident_id": incident_id}
                )
                await uow.commit()
        await self.sync(incident_id)

    async def run_job(self, job: Job) -> JobOutcome:
        """The `bookmarks.sync` job."""
        await self.sync(int(job.payload["incident_id"]))
        return JobDone()

    async def step(self, tools: SetupTools, run: SetupRun) -> bool:
        """The set-up step (after the header and runbooks, and the call): the channel's first bookmarks."""
        try:
            await self.sync(run.incident.id)
        except SlackError as exc:  # busy or away: the declare's event brings them later
            log.info("set-up of %s: bookmarks later: %s", run.incident.reference, exc.error)
        return True

    async def sync(self, incident_id: int) -> None:
        """Make the channel's bookmarks match the incident's things (only the difference); one pass at a time
        per incident in this process (two at once would both add what is missing)."""
        async with self._locks.setdefault(incident_id, asyncio.Lock()):
            await self._sync(incident_id)

    async def _sync(self, incident_id: int) -> None:
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(incident_id)
            if incident is None or incident.channel_id is None:
                return
            channel = await uow.channels.channel(incident.channel_id)
            if channel is not None and (channel.bookmarks_refused or channel.archived_at):
                return  # refused for good (logged once), or archived: nothing to keep
            kept = await uow.channels.kept_bookmarks(incident.channel_id)
            things = await self._things(uow, incident)
        changes = plan(wanted(things), kept)
        if not changes:
            return
        channel_id = incident.channel_id
        try:
            for bookmark in changes.add:
                done, made = await self._attempt(incident, self.bookmarks.add(channel_id, bookmark))
                if done and made is not None:
                    record = KeptBookmark(bookmark.kind, bookmark.key, made, bookmark.title, bookmark.link)
                    async with self.uow() as uow:
                        await uow.channels.bookmark_made(incident_id, channel_id, record)
                        await uow.commit()
            for was, now in changes.edit:
                done, _ = await self._attempt(incident, self.bookmarks.edit(channel_id, was.bookmark_id, now))
                if done:
                    async with self.uow() as uow:
                        await uow.channels.bookmark_edited(
                            channel_id, now.kind, now.key, title=now.title, link=now.link
                        )
                        await uow.commit()
            for gone in changes.remove:
                done, _ = await self._attempt(incident, self.bookmarks.remove(channel_id, gone.bookmark_id))
                if done:
                    async with self.uow() as uow:
                        await uow.channels.bookmark_removed(channel_id, gone.kind, gone.key)
                        await uow.commit()
        except _Refused as refused:
            await self._refused(incident, refused.error)

    async def _attempt(self, incident: Incident, call: Awaitable[_T]) -> tuple[bool, _T | None]:
        """One bookmark call: (True, its result), or (False, None) when Slack refused this bookmark alone;
        _Refused when Slack refuses bookmarks here at all; Slack busy or away raises as it came."""
        try:
            return True, await call
        except SlackError as exc:
            if exc.retryable:
                raise
            if exc.error in WORKSPACE_REFUSALS:
                raise _Refused(exc.error) from exc
            log.warning("%s: a bookmark was refused: %s", incident.reference, exc.error)
            return False, None

    async def _refused(self, incident: Incident, error: str) -> None:
        assert incident.channel_id is not None
        async with self.uow() as uow:
            await uow.channels.remember(incident.id, incident.channel_id, incident.channel_name or incident.channel_id)
            first = await uow.channels.first_refusal(incident.channel_id, error)
            await uow.commit()
        if first:
            log.warning(
                "%s: Slack refuses bookmarks in its channel (%s); Tocsin goes on without them",
                incident.reference,
                error,
            )

    async def _things(self, uow: UnitOfWork, incident: Incident) -> ChannelThings:
        channel_id = incident.channel_id
        assert channel_id is not None
        header = await self._permalink(channel_id, incident.header_ts) if incident.header_ts else None
        runbooks = []
        for name, parts in sorted((await uow.runbooks.posted(incident.id)).items()):
            if parts and (link := await self._permalink(*parts[0])):
                runbooks.append((name, name.replace("-", " ").replace("_", " ").capitalize(), link))
        latest = await uow.postmortems.latest(incident.id)
        postmortem = None
        if latest is not None:
            kind, slack_id, _version = latest
            postmortem = (
                f"https://slack.com/docs/{incident.team_id}/{slack_id}"
                if kind == "canvas"
                else (f"https://slack.com/files/{self.slack.bot_user_id or 'tocsin'}/{slack_id}")
            )
        status = None
        if not incident.private and self.public_url and await uow.status.publication(incident.id) is not None:
            status = f"{self.public_url.rstrip('/')}/status"
        issues = []
        for item in await uow.follow_ups.of_incident(incident.id):
            issue = await uow.trackers.issue_of(item.id)
            if issue is not None and issue.url and not issue.failed_reason:
                issues.append((issue.key, issue.url))
        previous = next((c for c in await uow.channels.channels_of(incident.id) if c.continued_in == channel_id), None)
        before = (
            f"https://slack.com/app_redirect?channel={previous.channel_id}&team={incident.team_id}"
            if previous
            else None
        )
        from_alert = incident.detected_via is DetectedVia.MONITORING  # only these are linked to an alert group
        return ChannelThings(
            bridge_url=incident.bridge_url,
            header_link=header,
            alert_link=await uow.channels.alert_link(incident.id) if from_alert else None,
            fields=url_fields(incident, self.policy),
            runbooks=runbooks,
            postmortem_link=postmortem,
            status_link=status,
            issues=issues,
            previous_channel_link=before,
        )

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            return await self.slack.permalink(channel, ts)
        except SlackError as exc:
            if exc.retryable:
                raise
            return None


def _from_an_alert(event: DomainEvent) -> bool:
    """An incident declared from an alert: its alert group is linked to it once the declare is done."""
    data = event.data
    return isinstance(data, IncidentDeclared) and data.detected_via == DetectedVia.MONITORING.value


class _Refused(Exception):
    """Slack refuses bookmarks in this channel at all."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error
