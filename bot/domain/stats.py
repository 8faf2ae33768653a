"""Incident metrics as plain records: what `/incident stats` reports. Definitions (also in docs/user-guide.md, Stats):

- MTTD, time to detect: from when impact started (the declare form's "when did it start", or the
  alert's start) to the declaration. Incidents without a known start are left out.
- MTTA, time to acknowledge: from the declaration to the first acknowledgement.
- MTTR, time to resolve: from the declaration to the resolution.
- Repeat-incident rate: of the incidents with a service, the share declared when an earlier incident of
  the same service had been declared within the same window.
- Detection share: how incidents came to light (monitoring, customer report, internal, not recorded).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import fmean, median
from typing import NamedTuple


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


class WindowIncident(NamedTuple):
    """What the figures need of one incident in the window (seconds; None where a time is unknown)."""

    severity: str
    declared: float  # seconds since the epoch (UTC), as are the other times
    started: float | None  # when impact started, if known
    acknowledged: float | None
    resolved: float | None
    service: str | None
    detected_via: str | None


def summarise(
    incidents: Iterable[WindowIncident],
    *,
    since: datetime | None,
    until: datetime,
    open_follow_ups: int,
    overdue_follow_ups: int,
) -> IncidentStats:
    """Every figure of a window from its incidents (read as tuples, in WindowIncident's field order), in
    one pass: counts, medians and means per severity (a measure counts only incidents with both times,
    in order), weekly counts and MTTR, repeats, detection."""
    counts: Counter[str] = Counter()
    measures: dict[str, tuple[list[float], list[float], list[float]]] = {}
    weekly: dict[int, Counter[str]] = defaultdict(Counter)  # by the Monday, in days since the epoch
    resolve_weekly: dict[tuple[int, str], list[float]] = defaultdict(list)
    of_service: dict[str, list[float]] = defaultdict(list)
    via: Counter[str] = Counter()
    for severity, declared, started, acknowledged, resolved, service, detected_via in incidents:
        counts[severity] += 1
        day = int(declared // 86400)
        week = day - (day + 3) % 7  # 1970-01-01 was a Thursday
        detects, acknowledges, resolves = measures.setdefault(severity, ([], [], []))
        if started is not None and declared >= started:
            detects.append(declared - started)
        if acknowledged is not None and acknowledged >= declared:
            acknowledges.append(acknowledged - declared)
        if resolved is not None:
            resolve_weekly[week, severity].append(resolved - declared)
            if resolved >= declared:
                resolves.append(resolved - declared)
        weekly[week][severity] += 1
        if service is not None:
            of_service[service].append(declared)
        via[detected_via or "unknown"] += 1
    weekly_mttr: dict[date, dict[str, float]] = {}
    for (week, severity), values in sorted(resolve_weekly.items()):
        weekly_mttr.setdefault(_EPOCH + timedelta(days=week), {})[severity] = fmean(values)
    return IncidentStats(
        since=since,
        until=until,
        total=sum(counts.values()),
        by_severity=[
            SeverityStats(
                severity=severity,
                incidents=counts[severity],
                detect=_durations(measures[severity][0]),
                acknowledge=_durations(measures[severity][1]),
                resolve=_durations(measures[severity][2]),
            )
            for severity in sorted(counts)
        ],
        weekly={_EPOCH + timedelta(days=week): dict(by) for week, by in sorted(weekly.items())},
        weekly_mttr=weekly_mttr,
        with_service=sum(len(declared) for declared in of_service.values()),
        # Repeats: every incident of a service declared after the service's first one in the window.
        repeats=sum(_after_the_first(declared) for declared in of_service.values()),
        detected_via=dict(via),
        open_follow_ups=open_follow_ups,
        overdue_follow_ups=overdue_follow_ups,
    )


_EPOCH = date(1970, 1, 1)


def _after_the_first(declared: list[float]) -> int:
    first = min(declared)
    return sum(1 for when in declared if when > first)


def _durations(measured: list[float]) -> Durations:
    if not measured:
        return Durations()
    return Durations(count=len(measured), median=median(measured), mean=fmean(measured))
