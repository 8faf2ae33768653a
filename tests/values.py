"""Plain values every test tier builds on, with nothing of the app or the Slack double: the clock tests
move, and a ready-made incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.incidents import Incident, Status

BUILT_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FakeClock:
    """The time the app (or a use case) sees; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def an_incident(**changes: Any) -> Incident:
    """A SEV2 incident under investigation, declared an hour before BUILT_AT, with both roles held."""
    values: dict[str, Any] = {
        "id": 1,
        "team_id": "T",
        "number": 7,
        "title": "t",
        "severity": "SEV2",
        "status": Status.INVESTIGATING,
        "declared_by": "U1",
        "declared_at": BUILT_AT - timedelta(hours=1),
        "roles": {"incident_commander": "U1", "comms_lead": "U2"},
    }
    return Incident(**(values | changes))
