"""The store of overrides and swaps made from Slack, their audit list, calendar feed tokens (`uow.shifts`),
and the messages the on-call changes send (bot/slack/blocks/shifts.py satisfies it)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from bot.domain.shift_values import LogAction, LogEntry, NewRequest, RequestState, ShiftRequest, StoredOverride, Via
from bot.domain.slack_values import Blocks

Message = tuple[str, Blocks]  # its text (the notification and fallback) and its blocks


class ShiftStore(Protocol):
    """Overrides and swaps made from Slack, their audit list, calendar feed tokens."""

    async def hold_schedule(self, schedule: str) -> None:
        """Hold `schedule`'s overrides until the transaction ends: overlap checks take turns."""
        ...

    async def add_override(
        self,
        schedule: str,
        user: str,
        start: datetime,
        end: datetime,
        *,
        via: Via,
        replaces: str | None,
        by: str,
        at: datetime,
    ) -> StoredOverride:
        """Store an override; the stored override."""
        ...

    async def overrides(self, schedules: Collection[str] | None, *, ending_after: datetime) -> list[StoredOverride]:
        """The overrides (not removed) of `schedules` (None: all) ending after `ending_after`, by start."""
        ...

    async def override(self, override_id: int) -> StoredOverride | None:
        """One override, removed or not."""
        ...

    async def remove_override(self, override_id: int, *, by: str, at: datetime) -> bool:
        """Mark an override removed; whether it was there to remove."""
        ...

    async def add_request(self, new: NewRequest, *, at: datetime) -> ShiftRequest:
        """Store a pending give or swap request; the stored request."""
        ...

    async def request(self, request_id: int) -> ShiftRequest | None:
        """One request."""
        ...

    async def decide(self, request_id: int, state: RequestState, *, at: datetime) -> bool:
        """Move a pending request to `state`; whether it was pending (a second answer finds it decided)."""
        ...

    async def set_message(self, request_id: int, channel: str, ts: str) -> None:
        """Remember the DM that asks for an answer (to show the answer in it)."""
        ...

    async def pending_for(self, user_id: str) -> list[ShiftRequest]:
        """The requests waiting for `user_id`'s answer, oldest first."""
        ...

    async def log(
        self,
        schedule: str,
        action: LogAction,
        *,
        actor: str,
        at: datetime,
        user: str | None = None,
        other: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        override_id: int | None = None,
        request_id: int | None = None,
    ) -> None:
        """Add a line to the audit list."""
        ...

    async def entries(self, schedule: str | None, *, limit: int) -> list[LogEntry]:
        """The audit list of one schedule (or all), newest first."""
        ...

    async def token(self, scope: str) -> str | None:
        """The calendar feed token of `scope`, if one was made."""
        ...

    async def put_token(self, scope: str, token: str, *, by: str, at: datetime, replace: bool) -> str:
        """Store `token` for `scope` (replacing the old one when `replace`, else only if there is none); the
        token the scope has now."""
        ...


class ShiftMessages(Protocol):
    """The messages on-call changes send to people."""

    def request_dm(self, request: ShiftRequest) -> Message:
        """The DM asking `request.asked` to accept or decline."""
        ...

    def request_answered(self, request: ShiftRequest, *, note: str = "") -> Message:
        """The asking DM once answered (no buttons), with why when it could not be done."""
        ...

    def outcome_dm(self, request: ShiftRequest, *, note: str = "") -> Message:
        """The requester told what became of their request."""
        ...

    def home_section(
        self, shifts: Sequence[tuple[str, datetime, datetime, bool]], pending: Sequence[ShiftRequest]
    ) -> Blocks:
        """App Home's on-call part: the viewer's next shifts (schedule, start, end, by override), the
        requests waiting for their answer, and how to take, give or swap."""
        ...
