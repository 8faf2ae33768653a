"""What people do with related incidents: link two of them (both ways: an event and a timeline line in
each), and, when a declare looks like an incident still open, the offer to join it instead (Join, or
Declare anyway)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.errors import NotFoundError, UserError
from bot.domain.events import incident_event
from bot.domain.events_beyond import IncidentLinked
from bot.domain.incidents import Incident, NewIncident, TimelineEntry, TimelineKind
from bot.domain.related import (
    LOOKALIKE_WINDOW,
    Subject,
    alert_group_of,
    carried_request,
    keys_of,
    lookalike,
    request_from,
    search_terms,
)
from bot.domain.slack_values import ReplyTarget
from bot.runtime.logs import event
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.related_ports import RelatedViews
from bot.usecases.visibility import Visibility

log = logging.getLogger(__name__)
GONE = "That incident isn't there any more (or isn't yours to see)."


class Declaring(Protocol):
    """How a declare is carried out (the core's IncidentService)."""

    async def declare(self, new: NewIncident, *, reply_to: ReplyTarget | None) -> object:
        """Declare `new`, telling `reply_to` how it went."""
        ...


@dataclass
class RelatedActions:
    """Linking related incidents, and joining an open one instead of declaring it again."""

    uow: UnitOfWorkFactory
    slack: Slack
    views: RelatedViews
    clock: Clock
    visibility: Visibility | None = None  # given once the core is built; without it, private ones are hidden
    incidents: Declaring | None = None  # likewise

    async def _may_see(self, incident: Incident, user_id: str) -> bool:
        if not incident.private:
            return True
        return self.visibility is not None and await self.visibility.may_see(incident, user_id)

    # ----- the offer to join instead ---------------------------------------------------------------
    async def lookalike(self, new: NewIncident) -> Incident | None:
        """An open incident someone else declared in the last hour that `new` looks like (same alert group
        or service, or a similar title), which its declarer may see."""
        subject = Subject(
            team_id=new.team_id,
            title=new.title,
            keys=keys_of(new.service, alert_group_of(new.declare_key)),
            terms=search_terms(new.title, new.description),
        )
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            recent = await uow.related.open_since(new.team_id, now - LOOKALIKE_WINDOW)
        # Several people declaring at once is what the offer is for: your own incident is not offered to you.
        candidates = [c for c in recent if c.incident.declared_by != new.declared_by]
        while candidates:
            found = lookalike(subject, candidates, now=now)
            if found is None:
                return None
            if await self._may_see(found.incident, new.declared_by):
                return found.incident
            candidates = [c for c in candidates if c is not found]
        return None

    async def declare_or_offer(self, new: NewIncident, *, reply_to: ReplyTarget) -> None:
        """Declare `new`, unless an open incident looks like the same one: then its declarer is first
        offered to join that one instead (or declare anyway, the button carrying the declare)."""
        assert self.incidents is not None
        request = carried_request(new)
        found = await self.lookalike(new) if request is not None else None
        if found is None or request is None:
            await self.incidents.declare(new, reply_to=reply_to)
            return
        await self.slack.reply(reply_to, *self.views.join_offer(found, request))
        event(
            log,
            "%s looks like the declare of %r: offered to join it",
            found.reference,
            new.title,
            incident=found.reference,
            actor=new.declared_by,
        )

    async def declare_anyway(self, value: str, *, actor: str, reply_to: ReplyTarget) -> None:
        """Declare anyway: the declare the button carries (once, whoever clicks it twice)."""
        assert self.incidents is not None
        await self.incidents.declare(request_from(value, declared_by=actor), reply_to=reply_to)

    async def join(self, incident_id: int, *, actor: str, reply_to: ReplyTarget) -> None:
        """Join instead: the person is invited to the incident's channel (a private one only if they may
        see it already)."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(incident_id)
        if incident is None or incident.channel_id is None or not await self._may_see(incident, actor):
            raise NotFoundError(GONE)
        await self.slack.invite(incident.channel_id, [actor])
        await self.slack.reply(reply_to, f"You've joined {incident.reference}: <#{incident.channel_id}>.")
        event(log, "%s: %s joined instead of declaring", incident.reference, actor, incident=incident.reference)

    # ----- links -----------------------------------------------------------------------------------
    async def link(self, incident_id: int, other_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime) -> bool:
        """Record two incidents as related, both ways (an event and a timeline line in each); False when
        they already were. Both must be incidents `actor` may see."""
        if incident_id == other_id:
            raise UserError("An incident can't be related to itself.")
        async with self.uow(read_only=True) as uow:
            one, other = await uow.incidents.get(incident_id), await uow.incidents.get(other_id)
        if one is None or other is None or one.team_id != other.team_id:
            raise NotFoundError(GONE)
        if not (await self._may_see(one, actor) and await self._may_see(other, actor)):
            raise NotFoundError(GONE)
        async with self.uow() as uow:
            added = await uow.related.link(one.id, other.id, by=actor, at=at)
            if added:
                for this, that in ((one, other), (other, one)):
                    linked = IncidentLinked(other_incident_id=that.id, other_reference=that.reference)
                    await uow.events.append(incident_event(linked, this, actor=actor, at=at))
                    entry = TimelineEntry(TimelineKind.RELATED, at, actor, linked_line(this, that))
                    await uow.incidents.record(this.id, entry)
            await uow.commit()
        if not added:
            await self.slack.reply(reply_to, f"{one.reference} and {other.reference} were already linked.")
            return False
        await self.slack.reply(reply_to, f"Linked {one.reference} and {other.reference} as related.")
        event(log, "%s linked to %s", one.reference, other.reference, incident=one.reference, actor=actor)
        return True


def linked_line(this: Incident, that: Incident) -> str:
    """The timeline line of `this` saying it is related to `that` (a private one is not named in a public
    incident's timeline, which its channel, postmortem and exports show)."""
    if that.private and not this.private:
        return "Linked as related to a private incident"
    return f"Linked as related to {that.reference}: {that.title}"
