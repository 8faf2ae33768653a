"""The incident's call bridge: made at declare as a set-up step (the policy's static URL, a new Jitsi room,
or a Zoom meeting), shown to whoever asks with `/incident bridge`, and replaced with `/incident bridge <url>`.

The URL lives on the incident (the header and the catch-up summary show it); events say only that it was
set and of which kind, so a private incident's call never leaves its channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.domain.bridges import bridge_for, check_bridge_url, jitsi_room
from bot.domain.context_policy import BridgePolicy
from bot.domain.errors import UserError, retryable
from bot.domain.events import incident_event
from bot.domain.events_beyond import IncidentBridgeSet
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.permissions import Act, require
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.user_refs import Directory
from bot.runtime.logs import event
from bot.usecases.changes import committed, locked
from bot.usecases.channel_ports import ChannelTexts, MeetingMaker
from bot.usecases.directory import UserDirectory, permission_directory
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.setup_run import Problem, SetupRun, SetupTools

log = logging.getLogger(__name__)


class Refresher(Protocol):
    """The header keeper (live_views.HeaderKeeper)."""

    async def refresh(self, incident_id: int) -> None:
        """Bring the incident's header and topic up to date."""
        ...


MeetingsFor = Callable[[BridgePolicy], MeetingMaker]  # a Zoom setting's meeting maker (UserError: no credentials)


@dataclass(frozen=True)
class BridgeService:
    """Makes, shows and replaces incidents' call bridges."""

    uow: UnitOfWorkFactory
    slack: Slack
    texts: ChannelTexts
    policy: Policy
    clock: Clock
    meetings: MeetingsFor
    header: Refresher | None = None
    directory: UserDirectory | None = None
    room_token: Callable[[], str] | None = None  # a Jitsi room's random part (tests); `secrets` otherwise

    # ----- at declare ---------------------------------------------------------------------------------
    async def step(self, tools: SetupTools, run: SetupRun) -> bool:
        """The set-up step: the bridge the policy gives the incident, made once (resumed, a bridge made
        before is found on the incident). A failure is noted on the run; the rest of the set-up goes on."""
        incident = run.incident
        if incident.bridge_url is not None:
            return True
        async with tools.uow(read_only=True) as uow:  # made by an earlier pass the run has not seen?
            stored = await uow.incidents.get(incident.id)
        if stored is not None and stored.bridge_url is not None:
            run.incident = replace(run.incident, bridge_url=stored.bridge_url)
            return True
        setting = bridge_for(
            self.policy, incident_type=incident.incident_type, service=incident.service, severity=incident.severity
        )
        if setting is None:
            return True
        try:
            url = await self._make(setting, incident)
        except Exception as exc:
            said = getattr(exc, "error", None) or str(exc) or type(exc).__name__
            log.warning("set-up of %s: bridge failed: %s", incident.reference, said)
            run.problems.append(Problem("bridge", str(said), bool(getattr(exc, "retryable", False)) or retryable(exc)))
            return False
        await self._store(incident.id, url, kind=setting.kind, actor=None, note="Call bridge set up")
        run.incident = replace(run.incident, bridge_url=url)
        header = tools.header or self.header
        if header is not None:
            await header.refresh(incident.id)
        return True

    async def _make(self, setting: BridgePolicy, incident: Incident) -> str:
        if setting.kind == "static":
            assert setting.url is not None  # the policy's validation
            return setting.url
        if setting.kind == "jitsi":
            token = self.room_token() if self.room_token is not None else None
            return jitsi_room(setting.jitsi_server, incident.reference, token=token)
        # A private incident's title never leaves Slack: its meeting is named by its reference alone.
        topic = incident.reference if incident.private else f"{incident.reference}: {incident.title}"
        return await self.meetings(setting).create_meeting(topic)

    # ----- /incident bridge [url] --------------------------------------------------------------------
    async def show(self, incident: Incident, *, reply_to: ReplyTarget) -> None:
        """Tell the asker (only them) the incident's call."""
        await self.slack.reply(
            reply_to, self.texts.bridge_reply(incident.reference, incident.bridge_url, private=incident.private)
        )

    async def replace(self, incident_id: int, url: str, *, actor: str, at: datetime | None = None) -> Incident:
        """Replace the incident's call with `url` (those who may change severity may); the channel hears of it."""
        link = check_bridge_url(url)
        directory = await permission_directory(self.directory)
        changed = await self._store(
            incident_id, link, kind="static", actor=actor, note="Call bridge replaced", at=at, directory=directory
        )
        if changed.channel_id:
            try:
                await self.slack.post(changed.channel_id, self.texts.bridge_line(link, actor))
            except Exception as exc:
                log.warning("%s: the new bridge was not announced: %s", changed.reference, getattr(exc, "error", exc))
        if self.header is not None:
            await self.header.refresh(incident_id)
        return changed

    async def _store(
        self,
        incident_id: int,
        url: str,
        *,
        kind: str,
        actor: str | None,
        note: str,
        at: datetime | None = None,
        directory: Directory | None = None,
    ) -> Incident:
        now = at or self.clock()
        async with self.uow() as uow:
            current = await locked(uow, incident_id)
            if actor is not None and directory is not None:
                require(Act.SEVERITY, actor=actor, incident=current, policy=self.policy, directory=directory)
                if current.bridge_url == url:
                    raise UserError(f"That is already {current.reference}'s call.")
            await uow.incidents.update(incident_id, bridge_url=url)
            await uow.incidents.record(incident_id, TimelineEntry(TimelineKind.CALL, now, actor, note))
            await uow.events.append(incident_event(IncidentBridgeSet(bridge_kind=kind), current, actor=actor, at=now))
            changed = await committed(uow, incident_id)
            await uow.commit()
        event(log, "%s: call bridge set (%s)", changed.reference, kind, incident=changed.reference, actor=actor,
              team=changed.team_id)  # fmt: skip
        return changed
