"""What many tests build: an incident declared through the double, the paging policy, a base incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.incidents import Incident, Status
from tests.conftest import settle
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

PAGING_POLICY = {
    "schedules": {
        "payments-primary": {
            "timezone": "Europe/London",
            "rotation": "weekly",
            "handoff": "mon 09:00",
            "users": ["U0BOB", "U0CAROL"],
            "start": "2026-11-23",
        },
        "payments-secondary": {"rotation": "daily", "handoff": "09:00", "users": ["U0CAROL"]},
    },
    "escalation_policies": {
        "payments": {
            "repeat": 1,
            "tiers": [
                {"notify": ["schedule:payments-primary"], "after": "5m"},
                {"notify": ["schedule:payments-secondary"], "after": "10m"},
                {"notify": ["group:S0MGMT", "user:U0ERIN"], "after": "15m", "min_severity": "SEV1"},
            ],
        }
    },
    "services": {
        "checkout": {
            "keywords": ["checkout", "payment"],
            "escalation_policy": "payments",
            "page_on_declare": ["SEV1", "SEV2"],
        }
    },
}


async def declare(
    double: SlackDouble,
    tocsin: Any,
    text: str = "declare sev2 Checkout errors",
    user: str = "U0ALICE",
    via: str = "http",
) -> Channel:
    """`/incident declare …` typed in #general; the new incident's channel once the work has settled."""
    await double.slash_command(user, double.channel_named("general").id, text, via=via)
    await settle(tocsin)
    return max((c for c in double.channels.values() if c.name.startswith("inc-")), key=lambda c: c.id)


BUILT_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


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
