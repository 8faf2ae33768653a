"""The incident lifecycle: status moves, resolve (paging stops, the postmortem draft is published),
postmortem done, reopen. Each is one transaction on the row-locked incident; Slack I/O follows the commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.domain import cadence
from bot.domain.archives import has_postmortem
from bot.domain.custom_fields import refuse_missing
from bot.domain.drafts import ResolutionDraft
from bot.domain.errors import UserError
from bot.domain.events import (
    DomainEvent,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    PageCancelled,
    about,
    incident_event,
    new_event,
)
from bot.domain.incidents import Incident, Status, TimelineEntry, TimelineKind
from bot.domain.lifecycle import check_move, check_reopen, stamps_for
from bot.domain.permissions import Act, require
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.runtime.metrics import Metrics
from bot.usecases.announce import Announcer
from bot.usecases.archives import cancel_archive
from bot.usecases.changes import committed, locked, log_change
from bot.usecases.continuation import continue_if_archived
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.incident_fields import fill_fields
from bot.usecases.message_ports import Messages
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.postmortems import PostmortemService
from bot.usecases.status_publishing import publish_resolution

log = logging.getLogger(__name__)


@dataclass
class Lifecycle:
    """Moving an incident through its lifecycle."""

    uow: UnitOfWorkFactory
    messages: Messages
    policy: Policy
    clock: Clock
    announce: Announcer  # the fan-out after each change (shared with the respond use cases)
    postmortems: PostmortemService | None = None
    metrics: Metrics | None = None
    pager: Pager | None = None  # to show stopped pages' DMs as settled when an incident resolves
    directory: UserDirectory | None = None  # whose the e-mail addresses in admins and permissions are

    async def check_may_resolve(self, incident: Incident, *, actor: str) -> None:
        """UserError unless `actor` may resolve `incident` (asked before opening the resolve form)."""
        directory = await permission_directory(self.directory)
        require(Act.RESOLVE, actor=actor, incident=incident, policy=self.policy, directory=directory)

    async def change_status(
        self,
        incident_id: int,
        *,
        status: Status,
        actor: str,
        at: datetime | None = None,
        send_later: Callable[[Callable[[], Awaitable[None]]], None] | None = None,
    ) -> Incident:
        """Move the lifecycle (resolving goes through `resolve`; `send_later`: runs the Slack part as work
        of its own once the change is stored)."""
        if status is Status.RESOLVED:
            raise UserError("Use `/incident resolve` to resolve.")
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            require(Act.STATUS, actor=actor, incident=current, policy=self.policy, directory=directory)
            check_move(current, status)
            await uow.incidents.update(current.id, status=status.value, **stamps_for(current, status, now))
            await uow.incidents.record(
                current.id,
                TimelineEntry(TimelineKind.STATUS_CHANGED, now, actor, f"{current.status.label} → {status.label}"),
            )
            moved = IncidentStatusChanged(previous=current.status.value, status=status.value)
            await uow.events.append(incident_event(moved, current, actor=actor, at=now))
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, current, f"status {current.status.label} → {status.label}", actor)
        notice = self.messages.status_changed(changed, current.status.label, actor)

        async def tell() -> None:
            line = self.messages.change_line(changed, notice)
            await self.announce.tell(changed, line, self.announce.channels(changed), author=actor)

        if send_later is not None:
            send_later(tell)
        else:
            await tell()
        return changed

    async def resolve(
        self,
        incident_id: int,
        *,
        draft: ResolutionDraft,
        actor: str,
        reply_to: ReplyTarget | None,
        at: datetime | None = None,
        public: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Resolve: status, timestamps, the resolution notice in the channel and to stakeholders. An
        incident on the status page gets its public resolution there (`public`, or the usual words). Its
        type's `fields` given with the resolve are stored first; a required one still empty refuses it."""
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            require(Act.RESOLVE, actor=actor, incident=current, policy=self.policy, directory=directory)
            check_move(current, Status.RESOLVED)
            if fields:  # the resolve form's fields of the incident's type
                current, _ = await fill_fields(uow, current, fields, actor=actor, at=now, policy=self.policy)
            refuse_missing(current, self.policy, "resolve")
            await uow.incidents.set_update_due(
                current.id,
                None,
                status=Status.RESOLVED.value,
                resolution_summary=draft.summary,
                customer_impact=draft.impact,
                cause=draft.cause,
                **stamps_for(current, Status.RESOLVED, now),
            )
            await uow.incidents.record(
                current.id, TimelineEntry(TimelineKind.RESOLVED, now, actor, draft.summary or "Resolved")
            )
            # Resolved means nobody is paged any more: escalations stop, and so do ack timeouts.
            stopped = await uow.pages.stop_for_incident(current.id)
            if stopped.cancelled:
                count = len(stopped.cancelled)
                note = f"Paging stopped: the incident was resolved ({count} page(s) still escalating)"
                await uow.incidents.record(current.id, TimelineEntry(TimelineKind.PAGE, now, None, note))
            await uow.events.append(*resolved_events(current, draft, stopped.cancelled, actor=actor, at=now))
            published = await publish_resolution(uow, current, public, actor=actor, now=now, policy=self.policy)
            resolved = await committed(uow, current.id)
            await uow.commit()
        log_change(log, current, "resolved", actor)
        if self.pager is not None:  # DMs say why, and lose their buttons
            await self.pager.settle_stopped(
                stopped.cancelled + stopped.timeouts_stopped, reason="the incident was resolved"
            )
        if self.metrics is not None:
            seconds = (now - resolved.declared_at).total_seconds()
            self.metrics.time_to_resolve.labels(resolved.severity).observe(max(0.0, seconds))
        notice = self.messages.resolution(resolved, actor=actor, now=now)
        await self.announce.tell(
            resolved, notice, self.announce.channels(resolved, stakeholders=True), actor_reply=reply_to, author=actor
        )
        if published is not None:
            line = f":mega: The status page says {resolved.reference} is resolved."
            await self.announce.tell(
                resolved, self.messages.change_line(resolved, line), self.announce.channels(resolved)
            )
        if self.postmortems is not None and resolved.channel_id and has_postmortem(resolved.severity, self.policy):
            await self.postmortems.publish(resolved, actor=actor)  # not for a severity without a postmortem
        return resolved

    async def postmortem_done(self, incident_id: int, *, actor: str, at: datetime | None = None) -> Incident:
        """The last stage of the lifecycle: the postmortem is done (by those who may resolve)."""
        now = at or self.clock()
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            require(Act.RESOLVE, actor=actor, incident=current, policy=self.policy, directory=directory)
            if current.status is not Status.RESOLVED:
                raise UserError(
                    f"{current.reference} is {current.status.label.lower()}; "
                    "the postmortem is marked done once the incident is resolved."
                )
            check_move(current, Status.CLOSED)
            await uow.incidents.update(current.id, status=Status.CLOSED.value)
            entry = TimelineEntry(TimelineKind.STATUS_CHANGED, now, actor, "Resolved → Postmortem done")
            await uow.incidents.record(current.id, entry)
            closed = IncidentStatusChanged(previous=Status.RESOLVED.value, status=Status.CLOSED.value)
            await uow.events.append(incident_event(closed, current, actor=actor, at=now))
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, current, "postmortem done", actor)
        notice = (
            f":white_check_mark: <@{actor}> marked the postmortem of {changed.reference} done; the incident is closed."
        )
        await self.announce.tell(
            changed, self.messages.change_line(changed, notice), self.announce.channels(changed), author=actor
        )
        return changed

    async def reopen(self, incident_id: int, *, reason: str, actor: str, at: datetime | None = None) -> Incident:
        """Reopen a resolved incident, or one whose postmortem is done (investigating again, reminders restart
        from now; a channel archived meanwhile is continued in a new one)."""
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            require(Act.REOPEN, actor=actor, incident=current, policy=self.policy, directory=directory)
            check_reopen(current)
            reopened_view = replace(current, status=Status.INVESTIGATING, last_update_at=now)
            due = cadence.due_for(reopened_view, current.severity, self.policy)
            await uow.incidents.set_update_due(current.id, due, status=Status.INVESTIGATING.value, resolved_at=None)
            await uow.incidents.record(
                current.id, TimelineEntry(TimelineKind.REOPENED, now, actor, reason or "Reopened")
            )
            back = IncidentStatusChanged(previous=current.status.value, status=Status.INVESTIGATING.value)
            reopened = IncidentReopened(status=Status.INVESTIGATING.value)
            await uow.events.append(*(incident_event(e, current, actor=actor, at=now) for e in (back, reopened)))
            await cancel_archive(uow, current.id)  # its channel no longer tidies itself away
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, current, "reopened", actor)
        # An archived channel cannot be unarchived by a bot: the incident continues in a new one.
        slack, messages = self.announce.slack, self.messages
        changed = await continue_if_archived(
            changed, uow=self.uow, slack=slack, messages=messages, policy=self.policy, clock=self.clock
        )
        notice = self.messages.reopened(changed, reason, actor)
        await self.announce.tell(
            changed,
            self.messages.change_line(changed, notice),
            self.announce.channels(changed, stakeholders=True),
            author=actor,
        )
        return changed


def resolved_events(
    incident: Incident, draft: ResolutionDraft, cancelled_pages: list[int], *, actor: str, at: datetime
) -> list[DomainEvent]:
    """What resolving records: the status moving on, the resolution, and each page it stood down."""
    moved = IncidentStatusChanged(previous=incident.status.value, status=Status.RESOLVED.value)
    events = [incident_event(e, incident, actor=actor, at=at) for e in (moved, IncidentResolved(summary=draft.summary))]
    reason = "the incident was resolved"
    events += [
        new_event(PageCancelled(page_id=page, reason=reason), subject=about(incident, page_id=page), actor=actor, at=at)
        for page in cancelled_pages
    ]
    return events
