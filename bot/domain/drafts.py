"""What people write in the update and resolve forms, as the use cases take it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UpdateDraft:
    """A status update as written."""

    known: str
    doing: str = ""
    next_at: datetime | None = None
    next_given: bool = False  # the author chose the next update time (else: the severity's cadence)


@dataclass(frozen=True, slots=True)
class ResolutionDraft:
    """How an incident was resolved, as far as known."""

    summary: str
    impact: str = ""
    cause: str = ""
