"""Publishing to the public status page, inside the unit of work of the change that publishes (a status
update, or the resolve that posts a published incident's resolution): the public update, a line on the
timeline, and the `incident.published_update` event, in one transaction.

What customers read is only ever what someone wrote for them: a publication has its own words (and its
own title), never the internal update's. A private incident is never published.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import UserError
from bot.domain.events import IncidentPublishedUpdate, incident_event
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.status_page import (
    RESOLVED_WORDING,
    Publication,
    PublicStatus,
    PublicWording,
    components_of,
    default_title,
)
from bot.usecases.ports import UnitOfWork

TIMELINE_PREFIX = "Status page: "  # how a public update reads on the incident's timeline
PUBLIC_ID_BYTES = 6  # 12 hex characters: unguessable enough that ids say nothing of how many there are


@dataclass(frozen=True, slots=True)
class Published:
    """A public update just recorded: the incident's publication and the update's words."""

    publication: Publication
    update_id: int
    body: str
    first: bool


def refuse_private(incident: Incident) -> None:
    """UserError for a private incident: nothing about it is ever published."""
    if incident.private:
        raise UserError(
            f"{incident.reference} is private, so it can't be published on the status page: nothing about a "
            "private incident leaves its channel. Make it public first (`/incident public`) if customers "
            "should hear about it."
        )


async def publish_in(
    uow: UnitOfWork,
    incident: Incident,
    wording: PublicWording,
    *,
    actor: str | None,
    now: datetime,
    policy: Policy,
    status: PublicStatus | None = None,
) -> Published:
    """Record a public update of `incident` (its status as the update's unless `status` says) in `uow`:
    the update, a timeline line and the event. The caller checks who may, and commits."""
    refuse_private(incident)
    checked = wording.checked()
    before = await uow.status.publication(incident.id)
    title = checked.title or (before.title if before else default_title(incident.service, policy))
    said = status or PublicStatus.of(incident.status)
    publication, update_id = await uow.status.publish(
        incident.id,
        public_id=before.public_id if before else secrets.token_hex(PUBLIC_ID_BYTES),
        title=title,
        status=said,
        body=checked.text,
        now=now,
        by=actor,
        retitle=checked.title is not None,
    )
    entry = TimelineEntry(TimelineKind.NOTE, now, actor, f"{TIMELINE_PREFIX}[{said.label}] {checked.text}")
    await uow.incidents.record(incident.id, entry)
    service = incident.service
    components = [service] if service is not None and service in components_of(policy) else []
    event = IncidentPublishedUpdate(
        update_id=update_id,
        public_id=publication.public_id,
        title=publication.title,
        status=said.value,
        body=checked.text,
        first=before is None,
        components=components,
    )
    await uow.events.append(incident_event(event, incident, actor=actor, at=now))
    return Published(publication, update_id, checked.text, before is None)


async def publish_resolution(
    uow: UnitOfWork, incident: Incident, wording: str | None, *, actor: str | None, now: datetime, policy: Policy
) -> Published | None:
    """A published incident's public resolution (its own words, or RESOLVED_WORDING), posted as it is
    resolved; None for an incident that was never published (nothing is said of it)."""
    if incident.private or await uow.status.publication(incident.id) is None:
        return None
    text = (wording or "").strip() or RESOLVED_WORDING
    return await publish_in(
        uow, incident, PublicWording(text), actor=actor, now=now, policy=policy, status=PublicStatus.RESOLVED
    )
