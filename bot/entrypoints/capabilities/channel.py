"""The incident channel as a workspace: the call bridge, bookmarks, retitling, archiving and continuation channels."""

from __future__ import annotations

from dataclasses import dataclass

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.usecases.hooks import Hooks


@dataclass
class Channel:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "channel"

    def hooks(self) -> Hooks:
        """What the core calls into."""
        return Hooks()

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        return Surfaces()


def capability(base: Base) -> Channel:
    """Build the capability."""
    return Channel(base)
