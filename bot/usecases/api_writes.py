"""What the REST API changes, through the same use cases and permission rules as Slack, acting as the
token's principal (`token:<name>`, what the timeline shows): declare (once per Idempotency-Key), post an
update, add a note, change severity or status, resolve, add a follow-up or mark one done.

Input the shared use cases would refuse is checked first (Invalid: 422), the policy's permissions are
theirs (NotPermitted: 403), and what they refuse after that clashes with the incident's state (409). A
private incident the caller may not see is not there (404). Slack's part of a change follows its commit;
if Slack fails there, the change stands, and the API says so by answering with it."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from bot.domain.drafts import ResolutionDraft, UpdateDraft
from bot.domain.errors import SlackError, UserError
from bot.domain.follow_ups import FollowUp, NewFollowUp, check_new
from bot.domain.incidents import DetectedVia, Incident, NewIncident, Status, clean_title
from bot.domain.permissions import NotPermitted
from bot.domain.policy import Policy
from bot.domain.privacy import private_by_default
from bot.domain.service_match import match_service
from bot.usecases.api_ports import Caller, Conflict, Invalid
from bot.usecases.api_reads import ApiReads
from bot.usecases.declare import Detach, IncidentService
from bot.usecases.follow_ups import FollowUpService
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.respond import ResponseService

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_UPDATE_INTERVAL = timedelta(days=30)  # the latest next update an update may promise


@dataclass(frozen=True, slots=True)
class Declaration:
    """An incident a program asks to declare."""

    title: str
    severity: str
    description: str = ""
    service: str | None = None
    private: bool = False
    detected_via: str | None = None

    def fingerprint(self) -> str:
        """What makes two requests the same declaration (an Idempotency-Key must come with the same one)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


@dataclass
class ApiWrites:
    """The API's write use cases."""

    uow: UnitOfWorkFactory
    reads: ApiReads
    incidents: IncidentService
    response: ResponseService
    lifecycle: Lifecycle
    follow_ups: FollowUpService
    policy: Policy
    clock: Clock
    detach: Detach  # runs a declare's set-up in Slack as work of its own, so the API answers at once

    # ----- declaring -------------------------------------------------------------------------------
    async def declare(self, caller: Caller, asked: Declaration, *, key: str | None) -> tuple[Incident, bool]:
        """Declare an incident (its set-up in Slack follows); the incident and whether this call made it.
        The same Idempotency-Key `key` with the same declaration gives the same incident, however many
        calls make it and however they overlap; with another declaration it is a Conflict."""
        if key is None:
            return await self._declared(self._new_incident(caller, asked, declare_key=f"api:{uuid.uuid4().hex}"))
        principal = caller.principal.name
        # The key makes one declare key, so overlapping calls store one incident (declarations are unique by it).
        new = self._new_incident(caller, asked, declare_key=_declare_key(principal, key))
        fingerprint = asked.fingerprint()
        async with self.uow() as uow:
            earlier = await uow.idempotency.claim(principal, key, fingerprint, now=self.clock())
            await uow.commit()
        if earlier is not None and earlier.request_hash != fingerprint:
            raise Conflict("This Idempotency-Key came with another declaration; use a new key for a new one.")
        try:
            incident, created = await self._declared(new)
        except Exception:
            if earlier is None:  # ours: give it up, so the same request may be tried again
                async with self.uow() as uow:
                    await uow.idempotency.forget(principal, key)
                    await uow.commit()
            raise
        if earlier is None:
            async with self.uow() as uow:
                await uow.idempotency.settle(principal, key, incident.id)
                await uow.commit()
        return incident, created

    async def _declared(self, new: NewIncident) -> tuple[Incident, bool]:
        outcome = await self.incidents.declare_now(new, set_up=self.detach)
        return outcome.incident, outcome.created

    def _new_incident(self, caller: Caller, asked: Declaration, *, declare_key: str) -> NewIncident:
        title = _valid(lambda: clean_title(asked.title))
        severity = self._severity(asked.severity)
        if asked.service is not None and asked.service not in self.policy.services:
            known = ", ".join(sorted(self.policy.services)) or "none"
            raise Invalid(f"The policy has no service {asked.service!r} (its services: {known}).")
        service = asked.service or match_service(title, self.policy)
        if (asked.private or private_by_default(severity, service, self.policy)) and not caller.sees_private:
            raise NotPermitted("This declaration would make a private incident; that needs the private:read scope.")
        return NewIncident(
            team_id=caller.team_id,
            title=title,
            severity=severity,
            declared_by=caller.actor,
            declare_key=declare_key,
            description=asked.description.strip(),
            detected_via=DetectedVia(asked.detected_via) if asked.detected_via else None,
            service=service,
            private=asked.private,
        )

    # ----- running an incident ---------------------------------------------------------------------
    async def post_update(
        self, caller: Caller, ref: str, *, text: str, doing: str, next_at: datetime | None
    ) -> Incident:
        """A status update: the timeline, the channel and stakeholders; the update clock starts again."""
        incident = await self.reads.find(caller, ref)
        if not text.strip():
            raise Invalid("An update needs some text: what do we know?")
        if next_at is not None and not self.clock() < next_at <= self.clock() + MAX_UPDATE_INTERVAL:
            raise Invalid(f"next_update_at has to be in the future, within {MAX_UPDATE_INTERVAL.days} days.")
        draft = UpdateDraft(known=text, doing=doing, next_at=next_at, next_given=next_at is not None)
        change = self.response.post_update(
            incident.id, draft=draft, actor=caller.actor, reply_to=None, send_later=self.detach
        )
        return await self._standing(caller, ref, change)

    async def add_note(self, caller: Caller, ref: str, *, text: str) -> Incident:
        """A note on the timeline."""
        incident = await self.reads.find(caller, ref)
        if not text.strip():
            raise Invalid("A note needs some text.")
        change = self.response.add_note(incident.id, text=text.strip(), actor=caller.actor, reply_to=None)
        return await self._standing(caller, ref, change)

    async def change_severity(self, caller: Caller, ref: str, *, severity: str, reason: str) -> Incident:
        """Change the severity, with why (an upgrade tells the new severity's stakeholders)."""
        incident = await self.reads.find(caller, ref)
        named = self._severity(severity)
        change = self.response.change_severity(
            incident.id,
            severity=named,
            reason=reason.strip(),
            actor=caller.actor,
            reply_to=None,
            send_later=self.detach,
        )
        return await self._standing(caller, ref, change)

    async def change_status(self, caller: Caller, ref: str, *, status: Status) -> Incident:
        """Move the lifecycle (investigating, identified, monitoring; resolving is `resolve`)."""
        incident = await self.reads.find(caller, ref)
        moving = self.lifecycle.change_status(incident.id, status=status, actor=caller.actor, send_later=self.detach)
        return await self._standing(caller, ref, moving)

    async def resolve(self, caller: Caller, ref: str, *, summary: str, impact: str, cause: str) -> Incident:
        """Resolve: paging stops, stakeholders hear, the postmortem draft is published."""
        incident = await self.reads.find(caller, ref)
        draft = ResolutionDraft(summary=summary.strip(), impact=impact.strip(), cause=cause.strip())
        return await self._standing(
            caller, ref, self.lifecycle.resolve(incident.id, draft=draft, actor=caller.actor, reply_to=None)
        )

    # ----- follow-ups ------------------------------------------------------------------------------
    async def add_follow_up(
        self, caller: Caller, ref: str, *, text: str, owner: str | None, due_on: date | None
    ) -> FollowUp:
        """An action item on an incident (its owner is reminded when it is due)."""
        incident = await self.reads.find(caller, ref)
        item = _valid(lambda: check_new(NewFollowUp(text, owner, due_on), today=self.reads.today()))
        added = await self.follow_ups.record(incident, item, actor=caller.actor)
        try:
            await self.follow_ups.announce_added(incident, added, reply_to=None)
        except SlackError as exc:  # stored and on the timeline all the same
            log.warning("%s: follow-up %d added by the API, not shown in Slack: %s", incident.reference, added.id, exc)
        return added

    async def follow_up_done(self, caller: Caller, follow_up_id: int) -> FollowUp:
        """Mark a follow-up done (a Conflict when it already is)."""
        item = await self.follow_ups.get(follow_up_id)
        await self.reads.find(caller, str(item.incident_id))  # a private incident's: not there without the scope
        if not await self.follow_ups.mark_done(follow_up_id, actor=caller.actor, reply_to=None):
            raise Conflict("That follow-up is already done.")
        return await self.follow_ups.get(follow_up_id)

    # ----- helpers ---------------------------------------------------------------------------------
    def _severity(self, name: str) -> str:
        named = self.policy.severity_named(name)
        if named is None:
            raise Invalid(f"{name!r} is not a severity; the policy's are {', '.join(self.policy.severity_names)}.")
        return named.name

    async def _standing(self, caller: Caller, ref: str, change: Awaitable[Incident]) -> Incident:
        """The incident as `change` left it: its Slack part may fail after the change committed (the
        change stands, and is what the caller gets back)."""
        try:
            return await change
        except SlackError as exc:
            log.warning("API change to %s done, but Slack failed after it: %s", ref, exc)
            return await self.reads.find(caller, ref)


def _declare_key(principal: str, key: str) -> str:
    """The declare key of the one declaration a principal's Idempotency-Key makes."""
    return "api:" + hashlib.sha256(f"{principal}\n{key}".encode()).hexdigest()


def _valid(check: Callable[[], T]) -> T:
    """What `check()` gives; its UserError as Invalid (the request's content is wrong)."""
    try:
        return check()
    except UserError as exc:
        raise Invalid(str(exc)) from None
