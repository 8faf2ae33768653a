"""Calendar feeds of on-call shifts: one per schedule and one per person, each at a URL with a random
token that is stored and can be rotated (the old URL then stops working). A feed holds the shifts of the
next 90 days as the schedules stand (overrides made from Slack included)."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from bot.domain.errors import NotFoundError, UserError
from bot.domain.oncall import shifts
from bot.domain.permissions import is_admin
from bot.domain.policy import Policy
from bot.domain.shift_values import person_scope, schedule_scope
from bot.runtime.logs import event
from bot.usecases.directory import permission_directory
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.schedule_book import ScheduleBook

log = logging.getLogger(__name__)

FEED_DAYS = 90
_NO_TOKEN = secrets.token_urlsafe(32)  # compared against when there is no token, so both take as long


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A calendar feed someone may subscribe to: what it holds and its URL (a secret: it is the key)."""

    label: str
    url: str
    personal: bool = False


@dataclass(frozen=True, slots=True)
class FeedShift:
    """One shift in a feed."""

    schedule: str
    user: str
    start: datetime
    end: datetime
    override: bool


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed's shifts and its name."""

    name: str
    shifts: list[FeedShift]
    made_at: datetime


@dataclass
class Calendars:
    """Feed tokens and the shifts the feeds hold."""

    uow: UnitOfWorkFactory
    policy: Policy
    clock: Clock
    book: ScheduleBook
    public_url: str | None

    async def links(self, *, actor: str, rotate: str | None = None) -> list[FeedLink]:
        """The feeds `actor` may use (theirs, and every schedule's: who is on call is no secret in the
        workspace), making tokens where there are none; `rotate` ("me" or a schedule) gets a new token first."""
        if not self.public_url:
            raise UserError("Calendar feeds need PUBLIC_URL set (where people reach Tocsin); ask whoever runs it.")
        now = self.clock()
        if rotate is not None:
            await self._may_rotate(actor, rotate)
        scopes = {person_scope(actor): None, **{schedule_scope(name): name for name in sorted(self.policy.schedules)}}
        found: dict[str, str] = {}
        async with self.uow() as uow:
            for scope in scopes:
                renew = rotate is not None and scope == (
                    person_scope(actor) if rotate == "me" else schedule_scope(rotate)
                )
                token = None if renew else await uow.shifts.token(scope)
                if token is None:
                    token = await uow.shifts.put_token(
                        scope, secrets.token_urlsafe(32), by=actor, at=now, replace=renew
                    )
                found[scope] = token
            await uow.commit()
        if rotate is not None:
            event(log, "%s rotated the calendar feed of %s", actor, rotate, actor=actor)
        base = self.public_url.rstrip("/")
        links = [
            FeedLink(
                "Your shifts",
                f"{base}/oncall/people/{quote(actor, safe='')}.ics?token={found[person_scope(actor)]}",
                True,
            )
        ]
        for scope, name in scopes.items():
            if name is not None:
                links.append(FeedLink(name, f"{base}/oncall/{quote(name, safe='')}.ics?token={found[scope]}"))
        return links

    async def _may_rotate(self, actor: str, what: str) -> None:
        if what == "me":
            return
        schedule = self.policy.schedules.get(what)
        if schedule is None:
            raise NotFoundError("There is no schedule called that.")
        directory = await self.book.directory([schedule])
        members = {u for layer in schedule.layers for u in layer.users}
        if any(directory.names(u, actor) for u in members):
            return
        if not is_admin(actor, self.policy, await permission_directory(self.book.people)):
            raise UserError("Only the schedule's people (or an admin) can rotate its feed.")

    async def schedule_feed(self, name: str, token: str) -> Feed | None:
        """The schedule's shifts for the next 90 days, if `token` is its feed's (None otherwise: the same
        answer for an unknown schedule as for a wrong token)."""
        schedule = self.policy.schedules.get(name)
        if not await self._token_matches(schedule_scope(name) if schedule else None, token) or schedule is None:
            return None
        now = self.clock()
        standing = (await self.book.schedules())[name]
        found = shifts(standing, now, now + timedelta(days=FEED_DAYS))
        return Feed(name, [FeedShift(name, s.user, s.start, s.end, s.override) for s in found], now)

    async def person_feed(self, user_id: str, token: str) -> Feed | None:
        """`user_id`'s shifts on every schedule for the next 90 days, if `token` is their feed's."""
        if not await self._token_matches(person_scope(user_id), token):
            return None
        now = self.clock()
        standing = await self.book.schedules()
        directory = await self.book.directory(standing.values())
        theirs = [
            FeedShift(name, s.user, s.start, s.end, s.override)
            for name, schedule in standing.items()
            for s in shifts(schedule, now, now + timedelta(days=FEED_DAYS))
            if directory.names(s.user, user_id)
        ]
        return Feed(f"On call: {user_id}", sorted(theirs, key=lambda s: (s.start, s.schedule)), now)

    async def _token_matches(self, scope: str | None, given: str) -> bool:
        stored = None
        if scope is not None:
            async with self.uow(read_only=True) as uow:
                stored = await uow.shifts.token(scope)
        expected = stored if stored is not None else _NO_TOKEN
        same = hmac.compare_digest(expected.encode(), given.encode())
        return same and stored is not None
