"""On-call changes made from Slack: taking a shift, giving one away or swapping (both need the other
person's Accept), removing an override, and the audit list of it all.

Each change is one transaction: the override, its line in the audit list, its event, and the
`shift.boundary` jobs at its start and end (the handovers capability updates user groups and sends
digests when they fire). A request is checked when asked and again when accepted: by then it may overlap
an override made since, or the shift may have changed hands; one accepted after it would have started has
expired (one asked for "now" runs from the answer instead). Checking and adding hold the schedule, so
replicas making overrides of one schedule at the same moment take turns and never both pass the check."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.errors import NotFoundError, UserError
from bot.domain.events import Subject, new_event
from bot.domain.events_beyond import OncallOverrideCreated, OncallOverrideRemoved
from bot.domain.jobs import job_key
from bot.domain.overrides import (
    Window,
    check_holds,
    check_window,
    disjoint,
    named_window,
    person,
    replaced,
    resolve_when,
)
from bot.domain.permissions import is_admin
from bot.domain.policy import Policy, Schedule
from bot.domain.shift_values import LogAction, LogEntry, NewRequest, RequestState, ShiftRequest, StoredOverride, Via
from bot.domain.user_refs import Directory
from bot.runtime.logs import event
from bot.usecases.directory import permission_directory
from bot.usecases.ports import Clock, UnitOfWork, UnitOfWorkFactory
from bot.usecases.schedule_book import ScheduleBook
from bot.usecases.shift_notices import ShiftNotices

log = logging.getLogger(__name__)

BOUNDARY = "shift.boundary"  # the job the handovers capability handles at each change of hands
LOG_SHOWN = 20
Turn = tuple[str, Window]  # who holds a window of the schedule now, and the window


@dataclass(frozen=True, slots=True)
class Answered:
    """What became of an answered request (`note`: why it could not be done, when it could not)."""

    request: ShiftRequest
    overrides: tuple[StoredOverride, ...] = ()
    note: str = ""


@dataclass
class ShiftChanges:
    """Takes, gives, swaps, their answers, removals and the audit list."""

    uow: UnitOfWorkFactory
    notices: ShiftNotices
    policy: Policy
    clock: Clock
    book: ScheduleBook
    wake_jobs: Callable[[], None]

    # ----- asking ----------------------------------------------------------------------------------
    async def take(
        self, *, schedule: str, actor: str, when: str, length: timedelta | None, at: datetime
    ) -> StoredOverride:
        """`actor` takes `schedule` from `when` (for `length`, else to the end of that turn)."""
        policy_schedule = self._schedule(schedule)
        directory = await self.book.directory([policy_schedule])
        async with self.uow() as uow:
            await uow.shifts.hold_schedule(schedule)
            standing = await self._standing(uow, schedule)
            moment = resolve_when(when, standing.zone, at)
            window = named_window(standing, moment, length, now=at)
            await self._check_new(uow, schedule, standing, window, at)
            replaces = replaced(standing, window)
            if replaces is not None and directory.names(replaces, actor):
                raise UserError("You're on call for all of that already.")
            override = await self._add(
                uow, schedule, actor, window, via=Via.TAKE, replaces=replaces, actor=actor, at=at
            )
            await self._log_override(uow, LogAction.TOOK, override, actor=actor, at=at)
            await uow.commit()
        self.wake_jobs()
        event(log, "%s took %s from %s to %s", actor, schedule, window.start, window.end, actor=actor)
        return override

    async def give(
        self, *, schedule: str, actor: str, to: str, when: str, length: timedelta | None, at: datetime, team_id: str
    ) -> ShiftRequest:
        """`actor` asks `to` to take their shift of `schedule` from `when`; `to` is DMed Accept/Decline."""
        if to == actor:
            raise UserError("That's you: give it to someone else.")

        def turns(standing: Schedule, directory: Directory) -> list[Turn]:
            moment = resolve_when(when, standing.zone, at)
            return [(actor, named_window(standing, moment, length, now=at, holder=actor, directory=directory))]

        return await self._request(Via.GIVE, schedule, actor, to, turns, at=at, team_id=team_id)

    async def swap(
        self, *, schedule: str, actor: str, other: str, mine: str, theirs: str, at: datetime, team_id: str
    ) -> ShiftRequest:
        """`actor` asks `other` to swap `actor`'s turn at `mine` for theirs at `theirs`."""
        if other == actor:
            raise UserError("That's you: swap with someone else.")

        def turns(standing: Schedule, directory: Directory) -> list[Turn]:
            return [
                (
                    holder,
                    named_window(
                        standing,
                        resolve_when(when, standing.zone, at),
                        None,
                        now=at,
                        holder=holder,
                        directory=directory,
                    ),
                )
                for holder, when in ((actor, mine), (other, theirs))
            ]

        return await self._request(Via.SWAP, schedule, actor, other, turns, at=at, team_id=team_id)

    async def _request(
        self,
        kind: Via,
        schedule: str,
        requester: str,
        asked: str,
        turns_of: Callable[[Schedule, Directory], list[Turn]],
        *,
        at: datetime,
        team_id: str,
    ) -> ShiftRequest:
        """Ask `asked` to take the turns `turns_of` names (the requester's first; a swap's theirs second)."""
        directory = await self.book.directory([self._schedule(schedule)])
        async with self.uow() as uow:
            await uow.shifts.hold_schedule(schedule)
            standing = await self._standing(uow, schedule)
            turns = turns_of(standing, directory)
            await self._check_turns(uow, schedule, standing, directory, turns, at)
            windows = [window for _, window in turns]
            theirs = windows[1] if len(windows) > 1 else None
            new = NewRequest(
                schedule,
                kind,
                requester,
                asked,
                windows[0].start,
                windows[0].end,
                theirs.start if theirs else None,
                theirs.end if theirs else None,
                from_now=at in (w.start for w in windows),
            )
            request = await self._ask(uow, new, at)
            await uow.commit()
        await self.notices.ask(request, team_id)
        return request

    # ----- answering -------------------------------------------------------------------------------
    async def answer(self, request_id: int, *, actor: str, accept: bool, at: datetime, team_id: str) -> Answered:
        """`actor` accepts or declines a request asked of them; both people are shown the outcome."""
        async with self.uow() as uow:
            request = await uow.shifts.request(request_id)
            if request is None:
                raise NotFoundError("That request isn't there any more.")
            asked = request.request
            if asked.asked != actor:
                raise UserError(f"That request was for {person(asked.asked)}, not you.")
            if request.state is not RequestState.PENDING:
                raise UserError(f"That request was {request.state.value} already.")
            await uow.shifts.hold_schedule(asked.schedule)
            answered = await self._decide(uow, request, accept=accept, at=at)
            if not await uow.shifts.decide(request_id, answered.request.state, at=at):
                raise UserError("That request was answered already.")
            await uow.commit()
        if answered.overrides:
            self.wake_jobs()
        event(
            log, "%s %s request %d for %s", actor, answered.request.state.value, request_id, asked.schedule, actor=actor
        )
        await self.notices.outcome(answered.request, answered.note, team_id)
        return answered

    async def _decide(self, uow: UnitOfWork, request: ShiftRequest, *, accept: bool, at: datetime) -> Answered:
        asked, schedule = request.request, request.request.schedule
        windows = [Window(asked.start, asked.end)]
        if asked.their_start is not None and asked.their_end is not None:
            windows.append(Window(asked.their_start, asked.their_end))

        async def record(action: LogAction) -> None:
            await uow.shifts.log(
                schedule,
                action,
                actor=asked.asked,
                at=at,
                user=asked.asked,
                other=asked.requester,
                start=asked.start,
                end=asked.end,
                request_id=request.id,
            )

        if not accept:
            await record(LogAction.DECLINED)
            return Answered(replace(request, state=RequestState.DECLINED, decided_at=at))
        if any(w.start < at for w in windows):
            if not asked.from_now or any(w.end <= at for w in windows):
                await record(LogAction.EXPIRED)
                note = "It would have started already; ask again if it still needs doing."
                return Answered(replace(request, state=RequestState.EXPIRED, decided_at=at), note=note)
            windows = [Window(max(w.start, at), w.end) for w in windows]  # asked for now: from the answer
        turns = list(zip((asked.requester, asked.asked), windows, strict=False))  # who holds each window now
        try:
            standing = await self._standing(uow, schedule)
            directory = await self.book.directory([standing])
            await self._check_turns(uow, schedule, standing, directory, turns, at)
        except UserError as refusal:
            await record(LogAction.REFUSED)
            return Answered(replace(request, state=RequestState.REFUSED, decided_at=at), note=str(refusal))
        other = {asked.requester: asked.asked, asked.asked: asked.requester}
        made = [
            await self._add(
                uow, schedule, other[holder], window, via=asked.kind, replaces=holder, actor=asked.asked, at=at
            )
            for holder, window in turns
        ]
        action = LogAction.SWAPPED if asked.kind is Via.SWAP else LogAction.GAVE
        for override in made:
            await self._log_override(uow, action, override, actor=asked.asked, at=at, request_id=request.id)
        return Answered(replace(request, state=RequestState.ACCEPTED, decided_at=at), overrides=tuple(made))

    # ----- removing and listing --------------------------------------------------------------------
    async def remove(self, override_id: int, *, actor: str, at: datetime) -> StoredOverride:
        """Remove an override made from Slack: by whoever it covers or replaced, made it, or an admin."""
        async with self.uow() as uow:
            override = await uow.shifts.override(override_id)
            if override is None or override.removed_at is not None:
                raise NotFoundError(
                    f"There is no override #{override_id} to remove (`/incident oncall log` lists them)."
                )
            involved = actor in (override.user, override.replaces, override.created_by)
            if not involved and not is_admin(actor, self.policy, await permission_directory(self.book.people)):
                raise UserError("Only the people it concerns (or an admin) can remove that override.")
            if override.end <= at:
                raise UserError(f"Override #{override_id} is over already; it stays on the audit list.")
            await uow.shifts.remove_override(override_id, by=actor, at=at)
            await self._log_override(uow, LogAction.REMOVED, override, actor=actor, at=at)
            subject = Subject(topic=f"schedule:{override.schedule}")
            removed = OncallOverrideRemoved(override_id=override_id, schedule=override.schedule)
            await uow.events.append(new_event(removed, subject=subject, actor=actor, at=at))
            await self._boundaries(uow, override.schedule, [max(override.start, at), override.end])
            await uow.commit()
        self.wake_jobs()
        event(log, "%s removed override %d of %s", actor, override_id, override.schedule, actor=actor)
        return override

    async def entries(self, schedule: str | None, *, limit: int = LOG_SHOWN) -> list[LogEntry]:
        """The audit list, newest first (one schedule's, or every one's)."""
        if schedule is not None:
            self._schedule(schedule)
        async with self.uow(read_only=True) as uow:
            return await uow.shifts.entries(schedule, limit=limit)

    async def pending_for(self, user_id: str) -> list[ShiftRequest]:
        """The requests waiting for `user_id`'s answer."""
        async with self.uow(read_only=True) as uow:
            return await uow.shifts.pending_for(user_id)

    # ----- the parts -------------------------------------------------------------------------------
    def _schedule(self, name: str) -> Schedule:
        found = self.policy.schedules.get(name)
        if found is None:
            known = ", ".join(sorted(self.policy.schedules)) or "none are configured"
            raise NotFoundError(f"There is no schedule called that ({known}).")
        return found

    async def _standing(self, uow: UnitOfWork, name: str) -> Schedule:
        return (await self.book.effective(uow, {name: self._schedule(name)}))[name]

    async def _check_new(self, uow: UnitOfWork, name: str, standing: Schedule, window: Window, at: datetime) -> None:
        stored = await uow.shifts.overrides([name], ending_after=at)
        check_window(window, name=name, stored=stored, zone=standing.zone, now=at)

    async def _check_turns(
        self, uow: UnitOfWork, name: str, standing: Schedule, directory: Directory, turns: list[Turn], at: datetime
    ) -> None:
        """Each window free of other overrides and in the future, then each held by the person named."""
        for _, window in turns:
            await self._check_new(uow, name, standing, window, at)
        for holder, window in turns:
            check_holds(standing, holder, window, directory)

    async def _add(
        self,
        uow: UnitOfWork,
        schedule: str,
        user: str,
        window: Window,
        *,
        via: Via,
        replaces: str | None,
        actor: str,
        at: datetime,
    ) -> StoredOverride:
        override = await uow.shifts.add_override(
            schedule, user, window.start, window.end, via=via, replaces=replaces, by=actor, at=at
        )
        created = OncallOverrideCreated(
            override_id=override.id,
            schedule=schedule,
            user=user,
            start=window.start,
            end=window.end,
            replaces=replaces,
            via=via.value,
        )
        await uow.events.append(new_event(created, subject=Subject(topic=f"schedule:{schedule}"), actor=actor, at=at))
        await self._boundaries(uow, schedule, [window.start, window.end])
        return override

    @staticmethod
    async def _log_override(
        uow: UnitOfWork,
        action: LogAction,
        override: StoredOverride,
        *,
        actor: str,
        at: datetime,
        request_id: int | None = None,
    ) -> None:
        """The audit list's line for an override made, given or removed."""
        await uow.shifts.log(
            override.schedule,
            action,
            actor=actor,
            at=at,
            user=override.user,
            other=override.replaces,
            start=override.start,
            end=override.end,
            override_id=override.id,
            request_id=request_id,
        )

    async def _boundaries(self, uow: UnitOfWork, schedule: str, moments: list[datetime]) -> None:
        for moment in moments:
            key = job_key(BOUNDARY, schedule, moment.isoformat())
            await uow.jobs.schedule(BOUNDARY, key, due_at=moment, payload={"schedule": schedule})

    async def _ask(self, uow: UnitOfWork, new: NewRequest, at: datetime) -> ShiftRequest:
        if not disjoint([Window(new.start, new.end), *self._theirs(new)]):
            raise UserError("Those two shifts overlap; pick one of yours and one of theirs.")
        request = await uow.shifts.add_request(new, at=at)
        action = LogAction.ASKED_SWAP if new.kind is Via.SWAP else LogAction.ASKED_GIVE
        await uow.shifts.log(
            new.schedule,
            action,
            actor=new.requester,
            at=at,
            user=new.requester,
            other=new.asked,
            start=new.start,
            end=new.end,
            request_id=request.id,
        )
        return request

    @staticmethod
    def _theirs(new: NewRequest) -> list[Window]:
        return [Window(new.their_start, new.their_end)] if new.their_start and new.their_end else []
