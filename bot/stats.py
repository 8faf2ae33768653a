"""Incident metrics as plain records: what `/incident stats` reports. Definitions (also in the README):

- MTTD, time to detect: from when impact started (the declare form's "when did it start", or the
  alert's start) to the declaration. Incidents without a known start are left out.
- MTTA, time to acknowledge: from the declaration to the first acknowledgement.
- MTTR, time to resolve: from the declaration to the resolution.
- Repeat-incident rate: of the incidents with a service, the share declared when an earlier incident of
  the same service had been declared within the same window.
- Detection share: how incidents came to light (monitoring, customer report, internal, not recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Durations:
    """Median and mean of one measure over `count` incidents (seconds)."""

    count: int = 0
    median: float | None = None
    mean: float | None = None


@dataclass(frozen=True, slots=True)
class SeverityStats:
    """One severity's figures."""

    severity: str
    incidents: int
    detect: Durations = field(default_factory=Durations)
    acknowledge: Durations = field(default_factory=Durations)
    resolve: Durations = field(default_factory=Durations)


@dataclass(frozen=True, slots=True)
class IncidentStats:
    """Everything `/incident stats` shows for one window."""

    since: datetime | None
    until: datetime
    total: int
    by_severity: list[SeverityStats]
    weekly: dict[date, dict[str, int]]  # week (Monday, UTC) → severity → incidents declared
    weekly_mttr: dict[date, dict[str, float]]  # week → severity → mean seconds to resolve
    with_service: int
    repeats: int
    detected_via: dict[str, int]  # monitoring / customer / internal / unknown → incidents
    open_follow_ups: int
    overdue_follow_ups: int

    @property
    def repeat_rate(self) -> float | None:
        """Share of incidents with a service that repeated one within the window."""
        return self.repeats / self.with_service if self.with_service else None

    def detection_share(self, source: str) -> float | None:
        """Share of incidents that came to light through `source`."""
        return self.detected_via.get(source, 0) / self.total if self.total else None
