"""Shift handovers, Slack user groups that follow a schedule, round-robin tiers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.usecases.hooks import Hooks


@dataclass
class Handovers:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "handovers"

    def hooks(self) -> Hooks:
        """What the core calls into."""
        return Hooks()

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        return Surfaces()


def capability(base: Base) -> Handovers:
    """Build the capability."""
    return Handovers(base)
