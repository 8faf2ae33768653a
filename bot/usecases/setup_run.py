"""One pass over an incident's set-up: what its steps are given (`SetupTools`), what it has recorded so
far and what failed (`SetupRun`), the hold that keeps another replica's sweep from taking it over while it
runs, and how steps are put together (`together`, `then`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.domain.errors import retryable, slack_error
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.usecases.announcement_storms import StormAnnouncements
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService

if TYPE_CHECKING:  # a type only: the hook's implementation is a capability's
    from bot.usecases.hooks import Silences

log = logging.getLogger("bot.usecases.setup")

# A set-up in progress holds itself this long past its last recorded step or heartbeat, renewed every
# KEEP_ALIVE_EVERY while its worker lives; after that (the process died) the sweep takes it over.
SETUP_GRACE = timedelta(seconds=20)
KEEP_ALIVE_EVERY = timedelta(seconds=5)
FIRST_RETRY = timedelta(minutes=1)
MAX_SETUP_ATTEMPTS = 8  # 1, 2, 4 … minutes: about four hours of Slack refusing before giving up


@dataclass(frozen=True, slots=True)
class Problem:
    """A set-up step that failed: which, Slack's error, and whether trying later may work."""

    step: str
    error: str
    retryable: bool

    def __str__(self) -> str:
        """`step: error`, as the declarer and the timeline see it."""
        return f"{self.step}: {self.error}"


class ServicePaging(Protocol):
    """How a set-up pages a service's on-call (paging's PageStarts)."""

    async def page_service(self, incident: Incident | None, *, service: str, actor: str, team_id: str) -> int:
        """Page a service's on-call through its escalation policy; the page's id."""
        ...


@dataclass(frozen=True)
class SetupTools:
    """What the set-up's steps are given; the live views, paging and runbooks are optional (a step that
    needs one it was not given has nothing to do)."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    header: HeaderKeeper | None = None
    home: HomeKeeper | None = None
    pager: ServicePaging | None = None
    runbooks: RunbookService | None = None
    silences: Silences | None = None  # maintenance windows: a declare's page of the on-call may be silenced
    # The capabilities' own steps in the channel (bookmarks, the call, related incidents…), once the header
    # is shown: each resumable like the core's (it finds what it did before rather than doing it twice).
    extra_steps: tuple[Step, ...] = ()
    # Announcements gather into one message per channel in a storm of declares (one per set of tools).
    storms: StormAnnouncements = field(init=False)

    def __post_init__(self) -> None:
        """The storm gathering is built from the same Slack, messages, policy and clock."""
        object.__setattr__(self, "storms", StormAnnouncements(self.slack, self.messages, self.policy, self.clock))


@dataclass
class SetupRun:
    """One pass over the set-up: the incident as it is recorded so far, whom to tell, and what failed."""

    incident: Incident
    token: str | None
    resumed: bool
    reply_to: ReplyTarget | None = None  # the declarer's request (a resumed set-up has none)
    problems: list[Problem] = field(default_factory=list)
    parts: int = 1  # parts still running; the last one to finish concludes
    alive: asyncio.Task[None] | None = None  # renews the set-up's hold until the run concludes

    async def stop_keeping_alive(self) -> None:
        """Stop renewing (before the set-up's timer is finished or rescheduled, so no beat revives it)."""
        if self.alive is not None:
            self.alive.cancel()
            await asyncio.gather(self.alive, return_exceptions=True)
            self.alive = None

    async def step(self, name: str, call: Awaitable[object]) -> bool:
        """Run one Slack step; a failure is noted (not raised), so the other steps go on."""
        try:
            await call
        except Exception as exc:
            self.failed(name, exc)
            return False
        return True

    def failed(self, step: str, exc: BaseException) -> None:
        """Note a failed step (logged once)."""
        log.warning("set-up of %s: %s failed: %s", self.incident.reference, step, slack_error(exc))
        self.problems.append(Problem(step, slack_error(exc), retryable(exc)))


# A set-up step: it does its part with the tools, notes a failure on the run (never raises one Slack
# gave), and says whether it is done, so the steps that need it may follow.
Step = Callable[[SetupTools, SetupRun], Awaitable[bool]]


def together(*steps: Step) -> Step:
    """The steps run at once (each its own branch: one's pace never holds another); done when all are."""

    async def all_of(tools: SetupTools, run: SetupRun) -> bool:
        return all(await asyncio.gather(*(step(tools, run) for step in steps)))

    return all_of


def then(first: Step, *after: Step) -> Step:
    """`first`, and once it is done the `after` steps together; done when all are."""

    async def in_turn(tools: SetupTools, run: SetupRun) -> bool:
        return await first(tools, run) and await together(*after)(tools, run)

    return in_turn


async def keep_alive(run: SetupRun, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
    """While `run` lives, renew its hold on the set-up (a short one: should the process die, the sweep of a
    surviving or restarted replica finishes it within SETUP_GRACE)."""
    while True:
        await asyncio.sleep(KEEP_ALIVE_EVERY.total_seconds())
        try:
            async with uow() as work:
                await work.setups.keep_alive(run.incident.id, until=clock() + SETUP_GRACE, token=run.token)
                await work.commit()
        except Exception as exc:  # the database is unreachable for now: the next beat tries again
            log.warning("set-up of %s: could not renew its hold: %s", run.incident.reference, type(exc).__name__)
