"""Making a private incident public (its IC's call): a new public channel set up like a declared one
(header, pin, runbooks, announcements), the private channel's members invited to it, a pointer left in
the private channel, which is then archived. Slack's bots cannot convert a channel, so it moves; the
move is recorded (`moved_from`) and finished by the set-up, resumable like a declare.

A public incident is never made private: its title, channel and announcements have been seen already, and
moving it would only hide what stays in people's history. Declaring a new private incident is the way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.errors import UserError
from bot.domain.events import IncidentMadePublic, incident_event
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.permissions import Act, require
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.runtime.logs import event
from bot.usecases.changes import committed, locked
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.setup import IncidentSetup
from bot.usecases.setup_run import SETUP_GRACE

log = logging.getLogger(__name__)


def refuse_making_private(incident: Incident) -> None:
    """Always refuses, saying why and what to do instead."""
    if incident.private:
        raise UserError(f"{incident.reference} is private already.")
    raise UserError(
        f"{incident.reference} has been public since it was declared: its title, channel and announcements "
        "have been seen. For a restricted response, declare a private incident "
        "(`/incident declare --private sev1 &lt;title&gt;`) and mention it here."
    )


@dataclass
class GoingPublic:
    """Moves a private incident into a new public channel."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    setup: IncidentSetup
    directory: UserDirectory | None = None  # whose the e-mail addresses in admins and permissions are

    async def make_public(self, incident_id: int, *, actor: str, reply_to: ReplyTarget) -> None:
        """Make the incident public; the actor must hold the policy's `make_public` grant (its IC by default).
        The move is a set-up of its own (the new channel, then the private channel's side of it: see
        IncidentSetup), so if this process dies half-way, the sweep finishes it."""
        now = self.clock()
        directory = await permission_directory(self.directory)
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            require(Act.MAKE_PUBLIC, actor=actor, incident=current, policy=self.policy, directory=directory)
            if not current.private:
                raise UserError(f"{current.reference} is public already.")
            if current.channel_id is None or current.moved_from is not None:
                raise UserError(f"{current.reference} is still being set up; try again in a minute.")
            await uow.incidents.update(
                current.id,
                private=False,
                channel_id=None,
                channel_name=None,
                channel_topic=None,
                header_ts=None,
                moved_from=current.channel_id,
            )
            await uow.setups.progress(current.id, finish_by=now + SETUP_GRACE)
            note = f"Made public (the private channel was #{current.channel_name})"
            await uow.incidents.record(current.id, TimelineEntry(TimelineKind.VISIBILITY, now, actor, note))
            public = await committed(uow, current.id)
            await uow.events.append(incident_event(IncidentMadePublic(), public, actor=actor, at=now))
            await uow.commit()
        event(log, "%s made public by %s", current.reference, actor, incident=current.reference, actor=actor)
        await self.setup.run(public, reply_to=None, page_service=False)
        async with self.uow(read_only=True) as uow:
            moved = await uow.incidents.get(current.id)
        if moved is None or moved.channel_id is None:
            said = f":warning: {current.reference} is public; Slack has not made its channel yet (Tocsin keeps trying)."
        else:
            said = f":unlock: {current.reference} is public now: {self.messages.channel_link(moved.channel_id)}."
        await self.slack.reply(reply_to, said)
