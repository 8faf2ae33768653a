"""A workspace's history of incidents for the related-incident tests and benchmark: many unrelated ones
(titles drawn from words the subject never uses, except "latency" now and then, and a few services) and,
hidden among them, the three that are related to the subject, plus decoys that must never be shown."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.incidents import Status
from bot.domain.related import keys_of
from storage.models import IncidentRow
from storage.related_models import IncidentKeyRow

TEAM = "T0TOCSIN"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SUBJECT_TITLE = "Checkout payment latency"
GROUP = 'alertmanager:{}:{alertname="CheckoutLatency"}'
# The three related ones, best first: the same alert group and service with the same words; the same
# service with two of the words; the words only (no service).
EXPECTED = [
    "Checkout payment latency alerts firing",
    "Checkout payment errors after deploy",
    "Payment latency at the checkout gateway",
]
_NOISE_TEXT = (
    "database replica lag queue backlog cache eviction disk full memory leak dns resolution certificate "
    "expired login failures search index stale report export slow email delivery delayed webhook retries "
    "kafka consumer stuck cron job missed api gateway 502 storage quota cpu throttling"
)
_NOISE_WORDS = _NOISE_TEXT.split()
_NOISE_SERVICES = ["search", "auth", "billing", "email", "checkout", None]


def _row(n: int, title: str, *, declared: datetime, service: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "team_id": TEAM,
        "number": n,
        "title": title,
        "severity": ["SEV1", "SEV2", "SEV3", "SEV4"][n % 4],
        "status": Status.RESOLVED,
        "description": "",
        "declared_by": "U0ALICE",
        "declare_key": f"history:{n}",
        "declared_at": declared,
        "resolved_at": declared + timedelta(minutes=30 + n % 90),
        "service": service,
        "channel_id": f"C{n:08d}",
        "channel_name": f"inc-{n}",
        "setup_attempts": 0,
        "private": False,
    } | extra


def history(total: int, *, seed: int = 29) -> list[dict[str, Any]]:
    """`total` incidents, oldest first; the related ones and the decoys are among the last hundred."""
    chosen = random.Random(seed)
    rows = []
    for n in range(1, total + 1):
        words = chosen.sample(_NOISE_WORDS, 3)
        if n % 7 == 0:
            words[1] = "latency"  # one word in common with the subject: less related than the expected ones
        service = _NOISE_SERVICES[n % len(_NOISE_SERVICES)]
        if service == "checkout" and "latency" in words:
            words[1] = "replica"  # the service and a word in common would rank with the expected ones
        declared = NOW - timedelta(minutes=(total - n + 10) * 7)
        rows.append(_row(n, " ".join(words).capitalize(), declared=declared, service=service))
    plants: dict[int, tuple[str, str | None, dict[str, Any]]] = {
        total - 90: (EXPECTED[0], "checkout", {"declare_key": "alert:alertmanager:0:" + GROUP.split(":", 1)[1]}),
        total - 60: (EXPECTED[1], "checkout", {}),
        total - 30: (EXPECTED[2], None, {}),
        total - 20: (SUBJECT_TITLE + " (private)", "checkout", {"private": True}),  # never in a post
        total - 10: (SUBJECT_TITLE, "checkout", {"team_id": "T0OTHER"}),  # another workspace's
    }
    for n, (title, service, extra) in plants.items():
        rows[n - 1] = _row(n, title, declared=rows[n - 1]["declared_at"], service=service, **extra)
    return rows


def key_rows(rows: list[dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    """What the set-up keyed each incident by (its service; the alert group it came from)."""
    keyed = []
    for row, incident_id in zip(rows, ids, strict=True):
        group = GROUP if row["declare_key"].startswith("alert:") else None
        for key in keys_of(row["service"], group, {"alertname": "CheckoutLatency"} if group else None):
            keyed.append({"team_id": row["team_id"], "key": key, "incident_id": incident_id})
    return keyed


async def store(engine: AsyncEngine, rows: list[dict[str, Any]], *, batch: int = 5_000) -> list[int]:
    """Store the rows (and their keys) in bulk; their ids, in order."""
    async with engine.begin() as connection:
        for start in range(0, len(rows), batch):
            await connection.execute(sa.insert(IncidentRow), rows[start : start + batch])
        found = await connection.execute(sa.text("SELECT id, declare_key FROM incidents"))
        by_key = {key: incident_id for incident_id, key in found}
        ids = [by_key[r["declare_key"]] for r in rows]
        keyed = key_rows(rows, ids)
        for start in range(0, len(keyed), batch):
            await connection.execute(sa.insert(IncidentKeyRow), keyed[start : start + batch])
    return ids
