"""Declaring: a declaration stored once (whoever delivers it twice), then set up in Slack; the open incidents.

Listeners call these after acknowledging; each use case is atomic in the database and does its Slack
I/O in as few sequential round trips as the work allows.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain import cadence
from bot.domain.errors import AlreadyStored, slack_error
from bot.domain.events import DomainEvent, IncidentDeclared, IncidentRoleAssigned, incident_event
from bot.domain.incidents import IC_ROLE, Incident, NewIncident, TimelineEntry, TimelineKind
from bot.domain.permissions import Act, require
from bot.domain.policy import Policy
from bot.domain.privacy import private_by_default
from bot.domain.slack_values import ReplyTarget
from bot.domain.source_message import SourceMessage
from bot.domain.typed_declare import refuse_incomplete, type_private
from bot.domain.user_refs import token_name
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.runtime.worker_slot import give_back
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory, utc_now
from bot.usecases.setup import IncidentSetup
from bot.usecases.setup_run import SETUP_GRACE
from bot.usecases.visibility import Visibility, hidden_from

log = logging.getLogger(__name__)

Detach = Callable[[Callable[[], Awaitable[None]]], None]  # runs a job as work of its own, tracked


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
    slack: Slack
    messages: Messages
    policy: Policy
    metrics: Metrics
    setup: IncidentSetup | None = None  # only recording (tests of storage) needs none
    clock: Clock = utc_now
    visibility: Visibility | None = None  # listing needs it
    directory: UserDirectory | None = None  # whose the e-mail addresses in admins and permissions are

    async def declare(
        self,
        new: NewIncident,
        *,
        reply_to: ReplyTarget | None,
        page_service: bool = True,
        from_message: SourceMessage | None = None,
    ) -> DeclareOutcome:
        """Declare: store the incident, then set it up in Slack (channel, header, announcements, page).
        `from_message` (the message shortcut) opens its timeline and, for a public incident, gets a
        threaded reply pointing at it."""
        new = await self.admit(new)
        if from_message is not None:
            link = await self.slack.permalink(from_message.channel_id, from_message.ts)
            new = replace(new, first_entry=replace(from_message, permalink=link).entry())
        started = self.clock()
        incident, created = await self.record_declaration(new)
        if not created:
            if reply_to is not None:
                await self.slack.reply(reply_to, self.messages.declared_confirmation(incident, created=False))
            return DeclareOutcome(incident, created=False)
        self._declared(incident)
        assert self.setup is not None
        # Stored: the rest waits on Slack (conversations.create is ~20 a minute once Slack pushes back), so
        # it goes on without a worker, and a storm of declares never keeps a person's next command waiting.
        give_back()
        problems = await self.setup.run(incident, reply_to=reply_to, page_service=page_service)
        self.metrics.declare_setup_seconds.observe((self.clock() - started).total_seconds())
        async with self.uow(read_only=True) as uow:
            current = await uow.incidents.get(incident.id)
        if from_message is not None and current is not None and not current.private:
            await self._point_from(from_message, current)
        return DeclareOutcome(current or incident, created=True, problems=[str(p) for p in problems])

    async def declare_now(self, new: NewIncident, *, set_up: Detach) -> DeclareOutcome:
        """Declare and answer at once (the API): store the incident, and hand its set-up in Slack to
        `set_up` to run as work of its own (its channel may not exist yet when this returns)."""
        new = await self.admit(new)
        incident, created = await self.record_declaration(new)
        if created:
            self._declared(incident)
            setup = self.setup
            assert setup is not None

            async def set_it_up() -> None:
                await setup.run(incident, reply_to=None)

            set_up(set_it_up)
        return DeclareOutcome(incident, created=created)

    async def admit(self, new: NewIncident) -> NewIncident:
        """The declaration as it will be stored, once the policy lets its declarer make it: private when
        asked for (a grant of its own) or when the policy makes its severity, service or type private.
        NotPermitted (a UserError) otherwise, or a UserError naming its type's missing required fields."""
        directory = await permission_directory(self.directory)
        require(Act.DECLARE, actor=new.declared_by, incident=None, policy=self.policy, directory=directory)
        if new.private:  # asked for; the policy's own defaults need no grant
            require(Act.DECLARE_PRIVATE, actor=new.declared_by, incident=None, policy=self.policy, directory=directory)
        elif private_by_default(new.severity, new.service, self.policy) or type_private(new, self.policy):
            new = replace(new, private=True)
        return refuse_incomplete(new, self.policy)

    def _declared(self, incident: Incident) -> None:
        """Count and log a new declaration."""
        self.metrics.incidents_declared.labels(incident.severity).inc()
        event(
            log,
            "%s declared at %s by %s%s",
            incident.reference,
            incident.severity,
            incident.declared_by,
            " (private)" if incident.private else "",
            incident=incident.reference,
            actor=incident.declared_by,
            team=incident.team_id,
        )

    async def _point_from(self, message: SourceMessage, incident: Incident) -> None:
        """A reply in the source message's thread (a reply's own thread), so its readers find the incident
        (public ones only)."""
        source = "a reply in this thread" if message.thread_ts else "this message"
        text = f":rotating_light: {self.messages.incident_title_line(incident)} was declared from {source}: "
        text += self.messages.channel_link(incident.channel_id)
        try:
            await self.slack.post(message.channel_id, text, thread_ts=message.thread_root)
        except Exception as exc:  # not a member of a private channel, say: the incident stands anyway
            log.info("%s: no reply under its source message: %s", incident.reference, slack_error(exc))

    async def finish_setup(self, incident: Incident, *, token: str) -> None:
        """Finish an incident's set-up that a declare left undone (the sweep, under its lease)."""
        assert self.setup is not None
        await self.setup.run(incident, reply_to=None, token=token, resumed=True)

    async def open_incidents(
        self, team_id: str, *, viewer: str, limit: int | None = None
    ) -> tuple[list[Incident], int]:
        """The first `limit` open incidents `viewer` may see, most severe first, then oldest first; and how
        many of those are open."""
        async with self.uow(read_only=True) as uow:
            private = await uow.incidents.private_ones(team_id)
        hidden = await hidden_from(self.visibility, viewer, private)
        async with self.uow(read_only=True) as uow:
            incidents = await uow.incidents.open_incidents(
                team_id, severity_order=self.policy.severity_names, limit=limit, hidden=hidden
            )
            counts = await uow.incidents.open_counts(team_id, hidden=hidden) if limit is not None else {}
        return incidents, sum(counts.values()) if limit is not None else len(incidents)

    async def record_declaration(self, new: NewIncident) -> tuple[Incident, bool]:
        """Store a declaration once: (the incident, True) the first time, (the same incident, False) after."""
        async with self.uow() as uow:
            if (existing := await uow.incidents.by_declare_key(new.declare_key)) is not None:
                return existing, False
            now = self.clock()
            number = await uow.incidents.next_number(new.team_id)
            due = cadence.due_on_declare(new.severity, now, self.policy)
            try:
                incident = await uow.incidents.add(
                    new, number=number, now=now, next_update_due=due, setup_by=now + SETUP_GRACE
                )
            except AlreadyStored:
                duplicate = True  # the same request, delivered twice, won the race
            else:
                duplicate = False
                declared = TimelineEntry(
                    TimelineKind.DECLARED, now, new.declared_by, f"Declared at {new.severity}: {new.title}"
                )
                await uow.incidents.record(incident.id, declared)
                if commands(new.declared_by):
                    await uow.incidents.assign_role(
                        incident.id, role=IC_ROLE, user_id=new.declared_by, by=new.declared_by, now=now
                    )
                    commander = "Incident Commander: the declarer"
                    await uow.incidents.record(
                        incident.id, TimelineEntry(TimelineKind.ROLE_ASSIGNED, now, new.declared_by, commander)
                    )
                if new.first_entry is not None:  # the message it was declared from, at the time it was posted
                    await uow.incidents.capture(incident.id, new.first_entry, reason=f"shortcut:{new.declared_by}")
                await uow.events.append(*declared_events(incident, new, at=now))
                await uow.commit()
        if duplicate:
            async with self.uow() as uow:
                existing = await uow.incidents.by_declare_key(new.declare_key)
            assert existing is not None
            return existing, False
        return replace(incident, roles={IC_ROLE: new.declared_by} if commands(new.declared_by) else {}), True


def declared_events(incident: Incident, new: NewIncident, *, at: datetime) -> tuple[DomainEvent, ...]:
    """What declaring records: the incident, and its declarer as Incident Commander (a person; not a token)."""
    declared = IncidentDeclared(
        title=new.title,
        severity=new.severity,
        status=incident.status.value,
        service=new.service,
        detected_via=new.detected_via.value if new.detected_via else None,
        description=new.description,
    )
    events = [incident_event(declared, incident, actor=new.declared_by, at=at)]
    if commands(new.declared_by):
        commander = IncidentRoleAssigned(role=IC_ROLE, user=new.declared_by)
        events.append(incident_event(commander, incident, actor=new.declared_by, at=at))
    return tuple(events)


def commands(declarer: str) -> bool:
    """Whether the declarer becomes the Incident Commander: a person does; an API token (a program) does
    not, and the role waits for someone to take it."""
    return token_name(declarer) is None
