"""What many tests build: an incident declared through the double, the paging policy, a base incident."""

from __future__ import annotations

from typing import Any

from tests.conftest import settle
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel
from tests.values import BUILT_AT as BUILT_AT  # tests import these from here too
from tests.values import an_incident as an_incident

PAGING_POLICY: dict[str, Any] = {
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
