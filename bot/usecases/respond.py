"""Use cases for running an incident from its channel: finding it, roles, severity, acknowledgement,
updates, notes and the timeline (status, resolve and reopen: lifecycle.py; messages captured from the
channel: capture.py; the fan-out after each change: announce.py).

Each change is one transaction on the row-locked incident; Slack I/O happens after it commits, and the
header, topic and App Home are then brought up to date (coalesced).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.domain import cadence
from bot.domain.drafts import UpdateDraft
from bot.domain.errors import NotFoundError, UserError
from bot.domain.events import (
    IncidentNoteAdded,
    IncidentRoleAssigned,
    IncidentSeverityChanged,
    IncidentUpdated,
    incident_event,
)
from bot.domain.incidents import Incident, Target, TimelineEntry, TimelineKind
from bot.domain.permissions import Act, require, require_role_change
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.status_page import PublicWording
from bot.runtime.metrics import Metrics
from bot.usecases.announce import Announcer
from bot.usecases.changes import committed, locked, log_change
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.message_ports import Messages
from bot.usecases.outbox import Outbox
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService
from bot.usecases.status_publishing import Published, publish_in, refuse_private
from bot.usecases.visibility import Visibility

log = logging.getLogger(__name__)


@dataclass
class ResponseService:
    """The in-incident use cases."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    header: HeaderKeeper
    home: HomeKeeper
    outbox: Outbox  # posts Slack refuses for now are kept and sent later
    runbooks: RunbookService | None = None
    metrics: Metrics | None = None
    visibility: Visibility | None = None  # who may see a private incident (none: nobody outside it)
    directory: UserDirectory | None = None  # whose the e-mail addresses in admins and permissions are
    announce: Announcer = field(init=False)

    def __post_init__(self) -> None:
        """The fan-out after each change."""
        self.announce = Announcer(
            slack=self.slack, policy=self.policy, header=self.header, home=self.home, outbox=self.outbox
        )

    # ----- finding the incident -------------------------------------------------------------
    async def find(self, *, team_id: str, target: Target, channel_id: str | None, viewer: str | None) -> Incident:
        """The incident a command is about: named, or the incident whose channel it was typed in. A private
        incident `viewer` may not see is not there for them (the same reply as a wrong number)."""
        async with self.uow(read_only=True) as uow:
            if target.number is not None:
                incident = await uow.incidents.by_number(team_id, target.number)
                missing = f"There is no INC-{target.number} here."
            else:
                channel = target.channel_id or channel_id
                incident = await uow.incidents.by_channel(channel) if channel else None
                missing = "This isn't an incident channel; name the incident, e.g. `/incident note INC-42 …`."
        if incident is None or (viewer and incident.private and not await self._visible(incident, viewer)):
            raise NotFoundError(missing)
        return incident

    async def _visible(self, incident: Incident, viewer: str) -> bool:
        return self.visibility is not None and await self.visibility.may_see(incident, viewer)

    async def get(self, incident_id: int) -> Incident:
        """An incident by id (from a button or a form)."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(incident_id)
        if incident is None:
            raise NotFoundError("That incident no longer exists.")
        return incident

    # ----- roles ----------------------------------------------------------------------------
    async def assign_role(
        self,
        incident_id: int,
        *,
        role: str,
        user_id: str,
        actor: str,
        at: datetime | None = None,
        in_channel: str | None = None,
    ) -> Incident:
        """Give `role` to `user_id`; the previous holder hands over. Invites the assignee."""
        named = next((r for r in self.policy.roles if r.key == role), None)
        if named is None:
            raise UserError(f"The policy has no {role.replace('_', ' ')} role.")
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id, in_channel)
            previous = current.roles.get(role)
            if previous == user_id:
                raise UserError(f"<@{user_id}> is already the {named.name} of {current.reference}.")
            require_role_change(
                role, assignee=user_id, actor=actor, incident=current, policy=self.policy, directory=directory
            )
            await uow.incidents.assign_role(current.id, role=role, user_id=user_id, by=actor, now=now)
            handover = f" (handed over from <@{previous}>)" if previous else ""
            await uow.incidents.record(
                current.id,
                TimelineEntry(TimelineKind.ROLE_ASSIGNED, now, actor, f"{named.name}: <@{user_id}>{handover}"),
            )
            assigned = IncidentRoleAssigned(role=role, user=user_id, previous=previous)
            await uow.events.append(incident_event(assigned, current, actor=actor, at=now))
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, changed, f"{user_id} is {named.name}", actor)
        invite = [self.slack.invite(changed.channel_id, [user_id])] if changed.channel_id else []
        notice = self.messages.role_assigned(named.name, user_id, previous, actor)
        also: list[Awaitable[object]] = list(invite)
        await self.announce.tell(
            changed,
            self.messages.change_line(changed, notice),
            self.announce.channels(changed),
            also=also,
            author=actor,
        )
        return changed

    # ----- severity -------------------------------------------------------------------------
    async def change_severity(
        self,
        incident_id: int,
        *,
        severity: str,
        reason: str,
        actor: str,
        reply_to: ReplyTarget | None,
        at: datetime | None = None,
        in_channel: str | None = None,
        send_later: Callable[[Callable[[], Awaitable[None]]], None] | None = None,
    ) -> Incident:
        """Change severity with who and why; an upgrade tells the new severity's stakeholders (`send_later`:
        runs the Slack part as work of its own once the change is stored)."""
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id, in_channel)
            require(Act.SEVERITY, actor=actor, incident=current, policy=self.policy, directory=directory)
            if not current.status.is_open:
                raise UserError(f"{current.reference} is {current.status.label.lower()}; reopen it to change severity.")
            before = current.severity
            if before == severity:
                raise UserError(f"{current.reference} is already {severity}.")
            due = cadence.due_for(current, severity, self.policy)
            await uow.incidents.set_update_due(current.id, due, severity=severity)
            why = f": {reason}" if reason else ""
            await uow.incidents.record(
                current.id, TimelineEntry(TimelineKind.SEVERITY_CHANGED, now, actor, f"{before} → {severity}{why}")
            )
            changed_severity = IncidentSeverityChanged(previous=before, severity=severity)
            await uow.events.append(incident_event(changed_severity, current, actor=actor, at=now))
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, current, f"severity {before} → {severity}", actor)
        notice = self.messages.severity_changed(changed, before, severity, reason, actor)
        channels = self.announce.channels(changed, upgraded_from=before)  # an upgrade tells its new stakeholders

        async def tell() -> None:
            line = self.messages.change_line(changed, notice)
            await self.announce.tell(changed, line, channels, actor_reply=reply_to, author=actor)
            if self.runbooks is not None:  # runbooks follow the incident: a new severity may bring new ones
                await self.runbooks.post_matching(changed)

        if send_later is not None:
            send_later(tell)
        else:
            await tell()
        return changed

    async def acknowledge(
        self,
        incident_id: int,
        *,
        actor: str,
        reply_to: ReplyTarget,
        at: datetime | None = None,
        in_channel: str | None = None,
    ) -> Incident:
        """Record the first acknowledgement; later clicks say who was first."""
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        async with self.uow() as uow:
            await locked(uow, incident_id, in_channel)
            first = await uow.incidents.acknowledge(incident_id, user_id=actor, now=now)
            if first:
                await uow.incidents.record(
                    incident_id, TimelineEntry(TimelineKind.ACKNOWLEDGED, now, actor, "Acknowledged")
                )
            changed = await committed(uow, incident_id)
            await uow.commit()
        if not first:
            when = self.messages.slack_date(changed.acknowledged_at) if changed.acknowledged_at else "earlier"
            await self.slack.reply(
                reply_to, f"{changed.reference} was already acknowledged by <@{changed.acknowledged_by}> ({when})."
            )
            return changed
        log_change(log, changed, "acknowledged", actor)
        if self.metrics is not None:
            seconds = (now - changed.declared_at).total_seconds()
            self.metrics.time_to_acknowledge.labels(changed.severity).observe(max(0.0, seconds))
        notice = f":eyes: <@{actor}> acknowledged {changed.reference}."
        await self.announce.tell(
            changed, self.messages.change_line(changed, notice), self.announce.channels(changed), author=actor
        )
        return changed

    # ----- updates and notes --------------------------------------------------------------------
    def draft_next_update(self, incident: Incident) -> datetime | None:
        """The next-update time to pre-fill: one cadence of the current severity from now."""
        return cadence.due_after_update(incident.severity, self.clock(), self.policy)

    async def post_update(
        self,
        incident_id: int,
        *,
        draft: UpdateDraft,
        actor: str,
        reply_to: ReplyTarget | None,
        at: datetime | None = None,
        public: PublicWording | None = None,
        send_later: Callable[[Callable[[], Awaitable[None]]], None] | None = None,
    ) -> Incident:
        """A status update: timeline, channel, stakeholder channels; resets the update clock (`send_later`:
        runs the Slack part as work of its own once the update is stored). With `public`,
        also (or, when the draft has no text, only) an update on the public status page in its own words,
        by those the policy lets publish; a private incident is never published."""
        internal = bool(draft.known.strip())
        if not internal and public is None:
            raise UserError("An update needs some text: what do we know?")
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        directory = await permission_directory(self.directory) if public is not None else None
        due: datetime | None = None
        published: Published | None = None
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            if public is not None and directory is not None:
                refuse_private(current)
                require(Act.PUBLISH, actor=actor, incident=current, policy=self.policy, directory=directory)
            if internal:
                due = await self._record_update(uow, current, draft, actor=actor, now=now)
            if public is not None:
                published = await publish_in(uow, current, public, actor=actor, now=now, policy=self.policy)
            posted = await committed(uow, current.id)
            await uow.commit()
        if internal:
            log_change(log, current, "status update posted", actor)
        if published is not None:
            log_change(log, current, "published on the status page", actor)

        async def tell() -> None:  # the channel, the stakeholders and the status-page line
            if internal:
                message = self.messages.status_update(
                    posted, known=draft.known, doing=draft.doing, next_at=due, actor=actor
                )
                await self.announce.tell(
                    posted,
                    message,
                    self.announce.channels(posted, stakeholders=True),
                    actor_reply=reply_to,
                    author=actor,
                )
            if published is not None:
                await self.announce.tell(
                    posted,
                    self.messages.change_line(posted, self._published_line(published, actor)),
                    self.announce.channels(posted),
                    actor_reply=None if internal else reply_to,
                    author=actor,
                )

        if send_later is not None:
            send_later(tell)  # stored already: the caller is answered now, Slack hears at its own pace
        else:
            await tell()
        return posted

    async def _record_update(
        self, uow: UnitOfWork, current: Incident, draft: UpdateDraft, *, actor: str, now: datetime
    ) -> datetime | None:
        """The internal update inside the change's unit of work; when the next one is due."""
        updated = replace(current, last_update_at=now)
        due = draft.next_at if draft.next_given else cadence.due_for(updated, current.severity, self.policy)
        if draft.next_given and due is not None and due <= now:
            raise UserError("The next update time has to be in the future.")
        if not current.status.is_open:
            due = None
        await uow.incidents.set_update_due(current.id, due, last_update_at=now)
        text = self.messages.update_text(known=draft.known, doing=draft.doing)
        await uow.incidents.record(current.id, TimelineEntry(TimelineKind.UPDATE, now, actor, text))
        update = IncidentUpdated(status=current.status.value, text=text)
        await uow.events.append(incident_event(update, current, actor=actor, at=now))
        return due

    def _published_line(self, published: Published, actor: str) -> str:
        """What the incident channel is told of a public update (the words customers now read)."""
        first = " (the incident is on the status page now)" if published.first else ""
        quoted = "\n".join(f">{line}" for line in self.messages.escape(published.body).splitlines())
        return f":mega: <@{actor}> posted to the status page{first}:\n{quoted}"

    async def add_note(
        self, incident_id: int, *, text: str, actor: str, reply_to: ReplyTarget | None, at: datetime | None = None
    ) -> Incident:
        """A timeline entry by hand (`reply_to`: who hears it was added; the API's caller needs no reply)."""
        now = at or self.clock()  # when the person acted, so concurrent work keeps their order
        async with self.uow() as uow:
            await uow.incidents.record(incident_id, TimelineEntry(TimelineKind.NOTE, now, actor, text))
            noted = await committed(uow, incident_id)
            await uow.events.append(incident_event(IncidentNoteAdded(text=text), noted, actor=actor, at=now))
            await uow.commit()
        log_change(log, noted, "note added", actor)
        if reply_to is not None:
            await self.slack.reply(reply_to, f":memo: Added to the {noted.reference} timeline.")
        return noted

    async def timeline(self, incident: Incident, *, page: int) -> tuple[str, list[dict[str, Any]]]:
        """A page of the timeline, ready to show."""
        async with self.uow(read_only=True) as uow:
            total, first, last = await uow.incidents.timeline_extent(incident.id)
            page = min(page, self.messages.timeline_pages(total))
            offset = (page - 1) * self.messages.TIMELINE_PAGE
            shown = await uow.incidents.timeline(incident.id, offset=offset, limit=self.messages.TIMELINE_PAGE)
        multi_day = first is not None and last is not None and first.date() != last.date()
        return self.messages.timeline_page(incident, shown, page, total=total, multi_day=multi_day)
