"""Heartbeats: when one is due by, and the alert a missed one raises (or resolves) through the alert
routing. Pure.

A missed heartbeat is an alert group of source `heartbeat` keyed by the heartbeat's name, whose one alert
is labelled with the heartbeat's service and severity, so the policy's alert routes decide what it pages or
declares like any other alert's (a route may also match `heartbeat: <name>` or `alertname:
HeartbeatMissed`). Its labels never change, so the alert resolving it is the same alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.alerts import Alert, AlertBatch, fingerprint_of
from bot.domain.durations import format_duration
from bot.domain.watch_policy import Heartbeat

SOURCE = "heartbeat"
ALERT_NAME = "HeartbeatMissed"


@dataclass(frozen=True, slots=True)
class HeartbeatState:
    """What is stored of a heartbeat: since when Tocsin has known it, its last beat, and whether (since when)
    it is missed; `generation` counts its misses (each one's deadline is a job of its own)."""

    name: str
    since: datetime
    last_seen_at: datetime | None = None
    missed_at: datetime | None = None
    generation: int = 0

    @property
    def missed(self) -> bool:
        """Whether its alert is firing."""
        return self.missed_at is not None


def deadline(beat: Heartbeat, state: HeartbeatState) -> datetime:
    """When `state`'s heartbeat is missed unless it beats: its period and grace after its last beat (or after
    Tocsin first saw it configured, for one that never beat)."""
    return (state.last_seen_at or state.since) + beat.every + beat.grace


def labels(name: str, beat: Heartbeat) -> dict[str, str]:
    """The missed heartbeat's alert labels (what the routing reads)."""
    found = {"alertname": ALERT_NAME, "heartbeat": name, "severity": beat.severity}
    if beat.service is not None:
        found["service"] = beat.service
    return found


def missed_alert(name: str, beat: Heartbeat, state: HeartbeatState, *, now: datetime) -> AlertBatch:
    """The alert a missed heartbeat raises."""
    last = state.last_seen_at
    heard = f"last heard at {last.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if last else "never heard from"
    return _batch(
        name,
        beat,
        firing=True,
        title=f"Heartbeat {name} missed",
        description=f"The heartbeat {name} did not arrive within {_every(beat)}; {heard}.",
        starts_at=min(deadline(beat, state), now),
    )


def recovered_alert(name: str, beat: Heartbeat) -> AlertBatch:
    """The same alert, resolved: the heartbeat beat again."""
    return _batch(name, beat, firing=False, title=f"Heartbeat {name} missed", description="It beat again.")


def _batch(
    name: str, beat: Heartbeat, *, firing: bool, title: str, description: str, starts_at: datetime | None = None
) -> AlertBatch:
    found = labels(name, beat)
    alert = Alert(
        fingerprint=fingerprint_of(found),
        firing=firing,
        title=title,
        labels=found,
        starts_at=starts_at,
        description=description,
    )
    return AlertBatch(source=SOURCE, group_key=name, alerts=[alert])


def _every(beat: Heartbeat) -> str:
    return f"{format_duration(beat.every)} (and {format_duration(beat.grace)} of grace)"
