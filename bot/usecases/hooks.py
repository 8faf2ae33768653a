"""Where the capabilities beyond the core (people's contact methods, on-call life, maintenance, the channel
as a workspace) plug into the core's use cases: each a Protocol the core calls at one point, implemented
by the capability and given to the core when it is built (bot/wiring.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # types only
    from bot.domain.escalation import Page, Plan
    from bot.domain.incidents import Incident
    from bot.domain.policy import Schedule
    from bot.usecases.ports import UnitOfWork
    from bot.usecases.setup_run import Step


class ContactPlanner(Protocol):
    """A page step has DMed `users`: plan each one's own contact rules inside their turn (PageSteps)."""

    async def plan(self, page: Page, users: Sequence[str], *, round: int, tier: int, now: datetime) -> None:
        """Plan the contact attempts (idempotent: a step sent again plans nothing new)."""
        ...


class TierRotation(Protocol):
    """A `strategy: round_robin` tier pages one of its targets per page, in turn (PageSteps)."""

    async def choose(self, page: Page, tier: int, users: Sequence[str]) -> list[str]:
        """Whom of `users` this page's tier notifies (the same one again if the page repeats the tier)."""
        ...


class ScheduleSnapshots(Protocol):
    """The schedules as they stand, with the overrides made from Slack (PageStarts: a page's plan)."""

    async def effective(self, uow: UnitOfWork, schedules: Mapping[str, Schedule]) -> dict[str, Schedule]:
        """`schedules` with every stored override added, read in the caller's unit of work."""
        ...

    async def snapshot(self, uow: UnitOfWork, plan: Plan) -> Plan:
        """`plan` with its schedules as they stand (what the page keeps, whatever changes later)."""
        ...


class Silences(Protocol):
    """Maintenance windows (AlertIntake, and the declare's page)."""

    async def silencing(
        self, service: str | None, severity: str, *, now: datetime, declared: bool = False
    ) -> str | None:
        """Why paging for `service` at `severity` is silenced now (a window's description), or None."""
        ...

    async def active(self, *, now: datetime) -> list[str]:
        """The windows silencing something now, described for people (for `/incident oncall`)."""
        ...


class HomeSection(Protocol):
    """A part of App Home that is the viewer's own (their contact methods, their shifts…)."""

    async def blocks(self, team_id: str, user_id: str) -> list[dict[str, Any]]:
        """The section's blocks for `user_id` (a few; none to leave it out)."""
        ...


class IncidentContext(Protocol):
    """What a capability adds to an incident's catch-up summary (say, related incidents)."""

    async def lines(self, incident: Incident, *, viewer: str | None) -> list[str]:
        """mrkdwn lines (escaped) for `incident`'s summary as `viewer` sees it."""
        ...


@dataclass(frozen=True)
class Hooks:
    """The hooks the capabilities give the core; each is optional."""

    contacts: ContactPlanner | None = None
    rotation: TierRotation | None = None
    schedules: ScheduleSnapshots | None = None
    silences: Silences | None = None
    setup_steps: tuple[Step, ...] = ()  # run after the header is shown, alongside each other
    home_sections: tuple[HomeSection, ...] = ()
    summary: tuple[IncidentContext, ...] = ()

    def merged(self, other: Hooks) -> Hooks:
        """Both hooks' (a single hook given twice is a wiring mistake)."""
        single = {}
        for name in ("contacts", "rotation", "schedules", "silences"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None:
                raise ValueError(f"two capabilities give the {name} hook")
            single[name] = mine if mine is not None else theirs
        return Hooks(
            **single,
            setup_steps=self.setup_steps + other.setup_steps,
            home_sections=self.home_sections + other.home_sections,
            summary=self.summary + other.summary,
        )
