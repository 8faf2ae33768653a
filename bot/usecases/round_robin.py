"""Round-robin tiers (`strategy: round_robin`): a tier that pages one of its targets per page, in turn.

The turn is a counter in the database, taken in one atomic statement, so two replicas paging at once
never take the same turn and a restart carries on where it was. A page that runs the tier again (a
retried step, `repeat`) notifies the one it picked the first time, as long as they are still a target.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.escalation import Page, applicable
from bot.domain.policy import Policy
from bot.runtime.logs import event
from bot.usecases.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

ROUND_ROBIN = "round_robin"


@dataclass(frozen=True)
class RoundRobin:
    """The TierRotation hook (bot/usecases/hooks.py) the pager calls after resolving a tier's users."""

    uow: UnitOfWorkFactory
    policy: Policy

    async def choose(self, page: Page, tier: int, users: Sequence[str]) -> list[str]:
        """Whom of `users` this page's tier notifies: all of them, unless the tier is round-robin."""
        tiers = applicable(page.plan, page.severity, self.policy)
        if tier >= len(tiers) or tiers[tier].strategy != ROUND_ROBIN or len(users) <= 1:
            return list(users)
        position = page.plan.tiers.index(tiers[tier])  # in the whole plan: the same whatever the severity
        async with self.uow() as uow:
            kept = await uow.handovers.pick(page.id, position)
            if kept is not None and kept in users:
                return [kept]
            turn = await uow.handovers.next_turn(f"{page.plan.name}:{position}")
            chosen = users[turn % len(users)]
            await uow.handovers.keep_pick(page.id, position, chosen)
            await uow.commit()
        event(log, "page %s: round-robin tier %d picks %s (turn %d)", page.id, tier + 1, chosen, turn, page=page.id)
        return [chosen]
