"""Telling people about on-call requests: the DM asking for an answer (Accept/Decline), the answer shown
in that DM, the outcome told to whoever asked, and the asked person's App Home published again. Slack
failing only delays the telling: the request stands (it is on App Home) and a change is already made."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.errors import SlackError
from bot.domain.shift_values import ShiftRequest
from bot.runtime.logs import event
from bot.usecases.ports import Slack, UnitOfWorkFactory
from bot.usecases.shift_ports import ShiftMessages

log = logging.getLogger("bot.usecases.shift_changes")


@dataclass(frozen=True)
class ShiftNotices:
    """The messages of give and swap requests."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: ShiftMessages
    refresh_home: Callable[[str, str], Awaitable[None]] | None = None  # (team, user): their App Home again

    async def ask(self, request: ShiftRequest, team_id: str) -> None:
        """DM the person asked, with Accept and Decline, and remember the DM (or leave it to App Home)."""
        asked = request.request
        event(
            log,
            "%s asked %s to %s %s",
            asked.requester,
            asked.asked,
            asked.kind.value,
            asked.schedule,
            actor=asked.requester,
        )
        try:
            channel, ts = await self.slack.dm(asked.asked, *self.messages.request_dm(request))
        except SlackError as exc:  # the request stands: it is on their App Home
            log.warning("could not DM %s shift request %d: %s", asked.asked, request.id, exc)
        else:
            async with self.uow() as uow:
                await uow.shifts.set_message(request.id, channel, ts)
                await uow.commit()
        await self.refresh(team_id, asked.asked)

    async def outcome(self, request: ShiftRequest, note: str, team_id: str) -> None:
        """Show the answer in the asking DM and tell whoever asked."""
        try:
            if request.message is not None:
                channel, ts = request.message
                await self.slack.update_message(channel, ts, *self.messages.request_answered(request, note=note))
            await self.slack.dm(request.request.requester, *self.messages.outcome_dm(request, note=note))
        except SlackError as exc:  # the change is made; only the telling failed
            log.warning("could not tell the outcome of shift request %d: %s", request.id, exc)
        await self.refresh(team_id, request.request.asked)

    async def refresh(self, team_id: str, user_id: str) -> None:
        """Publish `user_id`'s App Home again (their pending requests changed)."""
        if self.refresh_home is None:
            return
        try:
            await self.refresh_home(team_id, user_id)
        except SlackError as exc:  # App Home shows it when next opened
            log.warning("could not refresh %s's App Home: %s", user_id, exc)
