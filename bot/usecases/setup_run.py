"""One pass over an incident's set-up: what it has recorded so far, what failed, and the hold that keeps
another replica's sweep from taking it over while it runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.incidents import Incident
from bot.slack.gateway import slack_error
from bot.slack.web_client import retryable
from bot.usecases.ports import Clock, UnitOfWorkFactory

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


@dataclass
class SetupRun:
    """One pass over the set-up: the incident as it is recorded so far, and what failed."""

    incident: Incident
    token: str | None
    resumed: bool
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
