"""The status page as JSON in Atlassian Statuspage's public API shape (`/api/v2/summary.json`,
`incidents.json`, `status.json`, `components.json`, `incidents/unresolved.json`), so widgets and monitors
written for Statuspage read Tocsin's page as they are.

Ids are stable and say nothing internal: a component's is a digest of its name, an incident's its random
public id, an update's that id and the update's place in it. Only published words appear.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from bot.domain.status_page import PublicIncident, StatusSnapshot, impact

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the time of a page that has never shown an incident


def short_id(text: str) -> str:
    """A stable 12-character id for a name (Statuspage's ids are 12 lowercase characters)."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class StatuspageJson:
    """Renders a snapshot as Statuspage's public API documents (UTF-8 JSON bytes)."""

    def __init__(self, *, page_url: str, time_zone: str) -> None:
        """`page_url`: where customers reach the HTML page (PUBLIC_URL + /status)."""
        self.page_url = page_url
        self.page_id = short_id(page_url)
        self.time_zone = time_zone

    def documents(self, snapshot: StatusSnapshot) -> dict[str, bytes]:
        """Every JSON document, by its path under /status/api/v2/."""
        page = self._page(snapshot)
        status = {"indicator": snapshot.indicator.level, "description": snapshot.indicator.description}
        components = [self._component(snapshot, n) for n in range(len(snapshot.components))]
        unresolved = [self._incident(snapshot, i) for i in snapshot.open_incidents]
        every = [self._incident(snapshot, i) for i in snapshot.incidents]
        bodies: dict[str, dict[str, Any]] = {
            "summary.json": {
                "page": page,
                "status": status,
                "components": components,
                "incidents": unresolved,
                "scheduled_maintenances": [self._maintenance(snapshot, n) for n in range(len(snapshot.maintenances))],
            },
            "status.json": {"page": page, "status": status},
            "components.json": {"page": page, "components": components},
            "incidents.json": {"page": page, "incidents": every},
            "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        }
        return {path: _encode(body) for path, body in bodies.items()}

    def _page(self, snapshot: StatusSnapshot) -> dict[str, Any]:
        return {
            "id": self.page_id,
            "name": snapshot.title,
            "url": self.page_url,
            "time_zone": self.time_zone,
            "updated_at": _time(snapshot.updated_at or EPOCH),
        }

    def _component(self, snapshot: StatusSnapshot, position: int) -> dict[str, Any]:
        component = snapshot.components[position]
        changed = _time(snapshot.updated_at or EPOCH)
        return {
            "id": short_id(component.name),
            "name": component.name,
            "status": component.state.value,
            "created_at": changed,
            "updated_at": changed,
            "position": position + 1,
            "description": None,
            "showcase": True,
            "start_date": None,
            "group_id": None,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _incident(self, snapshot: StatusSnapshot, incident: PublicIncident) -> dict[str, Any]:
        state = snapshot.incident_state[incident.public_id]
        names = snapshot.incident_components.get(incident.public_id, ())
        affected = [c for c in snapshot.components if c.name in names]
        updates = [
            {
                "id": f"{incident.public_id}u{number}",
                "status": update.status.value,
                "body": update.body,
                "incident_id": incident.public_id,
                "created_at": _time(update.posted_at),
                "updated_at": _time(update.posted_at),
                "display_at": _time(update.posted_at),
                "affected_components": [
                    {
                        "code": short_id(c.name),
                        "name": c.name,
                        "old_status": c.state.value,
                        "new_status": c.state.value,
                    }
                    for c in affected
                ]
                or None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for number, update in reversed(list(enumerate(incident.updates, start=1)))
        ]
        return {
            "id": incident.public_id,
            "name": incident.title,
            "status": incident.status.value,
            "created_at": _time(incident.created_at),
            "updated_at": _time(incident.updated_at),
            "monitoring_at": _time(incident.monitoring_at),
            "resolved_at": _time(incident.resolved_at),
            "impact": impact(state),
            "shortlink": f"{self.page_url}#incident-{incident.public_id}",
            "started_at": _time(incident.created_at),
            "page_id": self.page_id,
            "incident_updates": updates,
            "components": [self._component(snapshot, snapshot.components.index(c)) for c in affected],
        }

    def _maintenance(self, snapshot: StatusSnapshot, index: int) -> dict[str, Any]:
        window = snapshot.maintenances[index]
        ident = short_id(f"{window.title}{window.starts_at.isoformat()}")
        return {
            "id": ident,
            "name": window.title,
            "status": "scheduled",
            "created_at": _time(window.starts_at),
            "updated_at": _time(window.starts_at),
            "monitoring_at": None,
            "resolved_at": None,
            "impact": "maintenance",
            "shortlink": f"{self.page_url}#maintenance-{ident}",
            "started_at": _time(window.starts_at),
            "page_id": self.page_id,
            "incident_updates": [],
            "components": [],
            "scheduled_for": _time(window.starts_at),
            "scheduled_until": _time(window.ends_at),
        }


def _time(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat()


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
