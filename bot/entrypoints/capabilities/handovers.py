"""Shift handovers, Slack user groups that follow a schedule, round-robin tiers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.handover_commands import handover_family
from bot.slack.blocks.handovers import HandoverBlocks
from bot.slack.usergroups import SlackUserGroups
from bot.usecases.contacts import reachability
from bot.usecases.handover_digests import HandoverDigests
from bot.usecases.handover_ports import ReachableBeyondSlack
from bot.usecases.handovers import BOUNDARY, DIGEST, USERGROUP_SYNC, Handoffs
from bot.usecases.hooks import Hooks
from bot.usecases.round_robin import RoundRobin
from bot.usecases.usergroup_sync import UserGroupSync


@dataclass
class Handovers:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "handovers"
    reachable: ReachableBeyondSlack | None = None  # whether an incoming person can be woken beyond Slack

    def hooks(self) -> Hooks:
        """Round-robin tiers: the pager asks whom of a tier's users to notify."""
        return Hooks(rotation=RoundRobin(self.base.uow, self.base.policy))

    def surfaces(self, core: Core) -> Surfaces:
        """The handoff, digest and user-group jobs, the first look at each schedule, and the note command."""
        base, snapshots, views = self.base, core.hooks.schedules, HandoverBlocks()
        uow, policy, clock, directory = base.uow, base.policy, base.clock, base.directory
        handoffs = Handoffs(uow, policy, clock, directory, base.wake_jobs, snapshots=snapshots)
        digests = HandoverDigests(
            uow, base.slack, policy, clock, directory, views, snapshots=snapshots, reachable=self.reachable
        )
        groups = SlackUserGroups(base.slack.client)
        sync = UserGroupSync(uow, base.slack, policy, clock, base.metrics, directory, groups, views, snapshots)
        return Surfaces(
            jobs={BOUNDARY: handoffs.boundary, DIGEST: digests.send, USERGROUP_SYNC: sync.sync},
            commands=handover_family(handoffs.add_note),
            starting=(handoffs.start,),
        )


def capability(base: Base) -> Handovers:
    """Build the capability."""
    return Handovers(base, reachable=reachability(base.directory))
