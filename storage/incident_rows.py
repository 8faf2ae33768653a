"""An incident's row as the domain's Incident, and a timeline entry as the columns of its row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.domain.incidents import DetectedVia, Incident, Status, TimelineEntry
from storage.models import IncidentRow


def incident_from_row(row: IncidentRow | sa.Row[Any], roles: dict[str, str]) -> Incident:
    """An incident from its row (an ORM object or a plain row of the same columns) and current roles."""
    assert row.id is not None
    return Incident(
        id=row.id,
        team_id=row.team_id,
        number=row.number,
        title=row.title,
        severity=row.severity,
        status=Status(row.status),
        declared_by=row.declared_by,
        declared_at=row.declared_at,
        description=row.description,
        detected_via=DetectedVia(row.detected_via) if row.detected_via else None,
        started_at=row.started_at,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        channel_topic=row.channel_topic,
        header_ts=row.header_ts,
        roles=dict(roles),
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        identified_at=row.identified_at,
        mitigated_at=row.mitigated_at,
        resolved_at=row.resolved_at,
        resolution_summary=row.resolution_summary,
        customer_impact=row.customer_impact,
        cause=row.cause,
        last_update_at=row.last_update_at,
        next_update_due=row.next_update_due,
        service=row.service,
        detected_at=row.detected_at,
        reminder_at=row.reminder_at,
        reminders_sent=row.reminders_sent,
        setup_attempts=row.setup_attempts,
        private=row.private,
        moved_from=row.moved_from,
        incident_type=row.incident_type,
        custom_fields=dict(row.custom_fields or {}),
        bridge_url=row.bridge_url,
    )


def timeline_values(incident_id: int, entry: TimelineEntry) -> dict[str, Any]:
    """A timeline entry as the columns of its row."""
    return {
        "incident_id": incident_id,
        "kind": entry.kind.value,
        "occurred_at": entry.occurred_at,
        "actor": entry.actor,
        "text": entry.text,
        "source": entry.source,
        "permalink": entry.permalink,
        "thread_ts": entry.thread_ts,
    }
