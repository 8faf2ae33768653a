"""An incident's type fields: `/incident field <name> <value>` (whoever may change severity may set them),
and the fields filled in as an incident is resolved. Each value set is recorded on the timeline and as an
IncidentFieldSet event in the same transaction; the channel hears of it and the header shows it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.domain.custom_fields import check_value, display, parse_typed, plain
from bot.domain.errors import UserError
from bot.domain.events import incident_event
from bot.domain.events_beyond import IncidentFieldSet
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.permissions import Act, NotPermitted, require
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.type_policy import FieldSpec, IncidentType, type_named
from bot.usecases.announce import Announcer
from bot.usecases.changes import committed, locked, log_change
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

CLEAR = "--clear"  # `/incident field <name> --clear` empties a field


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field set: its spec, the value before and after."""

    spec: FieldSpec
    previous: Any
    value: Any


@dataclass
class IncidentFields:
    """Setting an incident's type fields."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    messages: Messages
    announce: Announcer  # the fan-out after a change: the channel's notice, then header and App Home
    directory: UserDirectory | None = None  # whose the e-mail addresses in admins and permissions are

    async def set_field(
        self,
        incident_id: int,
        *,
        name: str,
        typed: str,
        actor: str,
        reply_to: ReplyTarget | None = None,
        at: datetime | None = None,
    ) -> Incident:
        """`/incident field <name> <value>`: check the value against the incident type's field, store it,
        record it, tell the channel. UserError for an incident without a type, an unknown field, a wrong
        value, or someone who may not change severity."""
        now = at or self.clock()
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            try:  # whoever may change severity may set fields
                require(Act.SEVERITY, actor=actor, incident=current, policy=self.policy, directory=directory)
            except NotPermitted as exc:
                said = str(exc).replace(" may change severity ", " may change fields ")
                raise NotPermitted(said) from None
            spec = _field_of(current, self.policy, name)
            value = None if typed.strip().lower() == CLEAR else parse_typed(spec, typed)
            if value is None and current.custom_fields.get(spec.name) in (None, "", []):
                raise UserError(f"{spec.title} is not set.")
            if value == current.custom_fields.get(spec.name):
                raise UserError(f"{spec.title} is already {plain(spec, value)}.")
            _, changes = await fill_fields(uow, current, {spec.name: value}, actor=actor, at=now, policy=self.policy)
            changed = await committed(uow, current.id)
            await uow.commit()
        log_change(log, changed, f"field {spec.name} set", actor)
        message = self.messages.change_line(changed, notice(changes[0], actor))
        await self.announce.tell(changed, message, self.announce.channels(changed), actor_reply=reply_to, author=actor)
        return changed


async def fill_fields(
    uow: UnitOfWork, incident: Incident, values: Mapping[str, Any], *, actor: str, at: datetime, policy: Policy
) -> tuple[Incident, list[FieldChange]]:
    """Store `values` (None clears) of the incident type's fields in the caller's transaction: each change
    on the timeline and as an event. Returns the incident as it now stands, and what changed."""
    kind = _type_of(incident, policy)
    stored = dict(incident.custom_fields)
    changes: list[FieldChange] = []
    for name, raw in values.items():
        spec = kind.field(name)
        if spec is None:
            raise UserError(f"A {incident.incident_type} incident has no field {name!r}.")
        value = None if raw in (None, "", []) else check_value(spec, raw)
        previous = stored.get(spec.name)
        if value == previous:
            continue
        if value is None:
            stored.pop(spec.name, None)
        else:
            stored[spec.name] = value
        changes.append(FieldChange(spec, previous, value))
        was = f" (was {plain(spec, previous)})" if previous not in (None, "", []) else ""
        text = f"{spec.title}: {plain(spec, value)}{was}"
        await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.FIELD_SET, at, actor, text))
        data = IncidentFieldSet(field=spec.name, value=value, previous=previous)
        await uow.events.append(incident_event(data, incident, actor=actor, at=at))
    if changes:
        await uow.incidents.update(incident.id, custom_fields=stored)
    return replace(incident, custom_fields=stored), changes


def notice(change: FieldChange, actor: str) -> str:
    """The channel's line for a field set (mrkdwn, escaped)."""
    if change.value is None:
        return f":pencil2: <@{actor}> cleared *{_escape(change.spec.title)}*."
    return f":pencil2: <@{actor}> set *{_escape(change.spec.title)}* to {display(change.spec, change.value)}."


def _type_of(incident: Incident, policy: Policy) -> IncidentType:
    kind = type_named(policy, incident.incident_type)
    if kind is None:
        raise UserError(
            f"{incident.reference} has no incident type, so it has no fields"
            + (f" (its type {incident.incident_type!r} is no longer in the policy)." if incident.incident_type else ".")
        )
    return kind


def _field_of(incident: Incident, policy: Policy, name: str) -> FieldSpec:
    kind = _type_of(incident, policy)
    spec = kind.field(name)
    if spec is None:
        names = ", ".join(f.name for f in kind.fields) or "none"
        raise UserError(f"A {incident.incident_type} incident has no field {name!r}; its fields: {names}.")
    return spec


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
