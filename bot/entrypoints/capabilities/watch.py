"""Heartbeats and maintenance windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.heartbeat_routes import heartbeat_routes
from bot.entrypoints.watch_commands import maintenance_family
from bot.slack.blocks import watch as views
from bot.usecases.heartbeats import DEADLINE, HeartbeatWatch, missed_heartbeats
from bot.usecases.hooks import Hooks
from bot.usecases.maintenance import ENDS, STARTS, Maintenance, MaintenanceNotices, WatchHome


@dataclass
class Watch:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "watch"
    maintenance: Maintenance = field(init=False)

    def __post_init__(self) -> None:
        """The windows are the core's silences: built before the core."""
        base = self.base
        self.maintenance = Maintenance(uow=base.uow, policy=base.policy, clock=base.clock, directory=base.directory)

    def hooks(self) -> Hooks:
        """What the core calls into: the silences, and App Home's part."""
        base = self.base
        home = WatchHome(self.maintenance, lambda: missed_heartbeats(base.uow, base.policy), views, base.clock)
        return Hooks(silences=self.maintenance, home_sections=(home,))

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        base = self.base
        heartbeats = HeartbeatWatch(uow=base.uow, policy=base.policy, clock=base.clock, alerts=core.alerts)
        return Surfaces(
            jobs={
                DEADLINE: heartbeats.deadline_passed,
                STARTS: self.maintenance.window_started,
                ENDS: self.maintenance.window_ended,
            },
            subscribers=(MaintenanceNotices(base.uow, base.slack, views, base.policy),),
            commands=maintenance_family(self.maintenance),
            routes=heartbeat_routes(heartbeats, lambda: _alert_tokens(base), base.metrics),
            starting=(heartbeats.plan, self.maintenance.plan),
        )


def _alert_tokens(base: Base) -> Sequence[str]:
    """The bearer tokens heartbeats may present: the alert webhooks' (ALERTS_TOKEN and its previous one)."""
    return base.alert_tokens


def capability(base: Base) -> Watch:
    """Build the capability."""
    return Watch(base)
