"""Waking people: each person's contact methods and rules, contact attempts, outside acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass

from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.usecases.hooks import Hooks


@dataclass
class Contacts:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "contacts"

    def hooks(self) -> Hooks:
        """What the core calls into."""
        return Hooks()

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        return Surfaces()


def capability(base: Base) -> Contacts:
    """Build the capability."""
    return Contacts(base)
