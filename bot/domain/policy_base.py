"""The base of every policy section. Pure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A policy section: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
