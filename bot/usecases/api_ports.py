"""What the REST API's use cases need beyond the unit of work: who is calling, the errors that say why a
request cannot be done (the API answers each with its own status), and the query store its lists read
(storage/incident_queries.py implements it)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar

from bot.domain.api_tokens import Principal, Scope
from bot.domain.errors import UserError
from bot.domain.events import DomainEvent
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.stats import IncidentStats
from bot.domain.user_refs import token_actor

T = TypeVar("T")


class Invalid(UserError):
    """The request is well formed but asks for something that cannot be (an unknown severity, an empty
    title): the API answers 422."""


class Conflict(UserError):
    """The request clashes with the state of things (resolving a resolved incident, an Idempotency-Key
    reused with another body): the API answers 409."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an API request acts for: a token's principal, in the workspace Tocsin serves."""

    principal: Principal
    team_id: str

    @property
    def actor(self) -> str:
        """What the caller's changes record as their actor: `token:<name>`."""
        return token_actor(self.principal.name)

    @property
    def sees_private(self) -> bool:
        """Whether private incidents exist for this caller (`private:read`); without it they are unknown."""
        return self.principal.may(Scope.PRIVATE_READ)


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """Some items of a longer list, and whether more follow the last of them."""

    items: list[T]
    more: bool


class IncidentQueryStore(Protocol):
    """The API's filtered, keyset-paginated reads (each in a read-only session of its own)."""

    async def incidents(
        self,
        *,
        team_id: str,
        include_private: bool,
        sort: str = ...,
        after: tuple[datetime | int, int] | None = ...,
        limit: int = ...,
        status: str | None = ...,
        severity: str | None = ...,
        service: str | None = ...,
        private: bool | None = ...,
        declared_after: datetime | None = ...,
        declared_before: datetime | None = ...,
        resolved_after: datetime | None = ...,
        resolved_before: datetime | None = ...,
        text: str | None = ...,
    ) -> list[Incident]: ...

    async def timeline(
        self,
        incident_id: int,
        *,
        kinds: Collection[TimelineKind] = ...,
        after: tuple[datetime, int] | None = ...,
        limit: int = ...,
    ) -> list[tuple[int, TimelineEntry]]: ...

    async def follow_ups(
        self,
        *,
        team_id: str,
        include_private: bool,
        incident_id: int | None = ...,
        state: str | None = ...,
        owner: str | None = ...,
        overdue_on: date | None = ...,
        after: int | None = ...,
        limit: int = ...,
    ) -> list[FollowUp]: ...

    async def events(
        self,
        *,
        after: int,
        limit: int,
        include_private: bool,
        kinds: Collection[str] = ...,
        incident_id: int | None = ...,
    ) -> list[tuple[int, DomainEvent]]: ...

    async def stats(
        self, team_id: str, *, since: datetime | None, now: datetime, today: date, include_private: bool
    ) -> IncidentStats: ...
