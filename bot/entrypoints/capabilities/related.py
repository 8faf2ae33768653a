"""Related past incidents: full-text search, the offer to join an open one instead, links both ways."""

from __future__ import annotations

from dataclasses import dataclass

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.usecases.hooks import Hooks


@dataclass
class Related:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "related"

    def hooks(self) -> Hooks:
        """What the core calls into."""
        return Hooks()

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        return Surfaces()


def capability(base: Base) -> Related:
    """Build the capability."""
    return Related(base)
