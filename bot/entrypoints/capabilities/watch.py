"""Heartbeats and maintenance windows."""

from __future__ import annotations

from dataclasses import dataclass

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.usecases.hooks import Hooks


@dataclass
class Watch:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "watch"

    def hooks(self) -> Hooks:
        """What the core calls into."""
        return Hooks()

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        return Surfaces()


def capability(base: Base) -> Watch:
    """Build the capability."""
    return Watch(base)
