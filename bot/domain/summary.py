"""What someone joining an incident needs to know, gathered into one record. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.escalation import Page
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind

RECENT_SHOWN = 5
# Entries people made (not Tocsin's own book-keeping): what a newcomer reads to catch up.
HUMAN_KINDS = frozenset(
    {
        TimelineKind.DECLARED,
        TimelineKind.ROLE_ASSIGNED,
        TimelineKind.SEVERITY_CHANGED,
        TimelineKind.STATUS_CHANGED,
        TimelineKind.UPDATE,
        TimelineKind.NOTE,
        TimelineKind.FIELD_SET,
        TimelineKind.CALL,
        TimelineKind.RETITLED,
        TimelineKind.CHANNEL,
        TimelineKind.RELATED,
        TimelineKind.ACKNOWLEDGED,
        TimelineKind.RESOLVED,
        TimelineKind.REOPENED,
        TimelineKind.MESSAGE,
        TimelineKind.FOLLOW_UP,
        TimelineKind.VISIBILITY,
    }
)


@dataclass(frozen=True, slots=True)
class RunbookProgress:
    """A runbook posted in the incident: steps ticked of its total."""

    name: str
    ticked: int
    total: int


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    """An incident at a glance."""

    incident: Incident
    last_update: TimelineEntry | None
    recent: tuple[TimelineEntry, ...]  # the last few entries people made, oldest first
    open_follow_ups: tuple[FollowUp, ...]
    active_pages: tuple[Page, ...]
    runbooks: tuple[RunbookProgress, ...]
    now: datetime


def summarise(
    incident: Incident,
    *,
    latest: list[TimelineEntry],
    follow_ups: list[FollowUp],
    pages: list[Page],
    runbooks: list[RunbookProgress],
    now: datetime,
    automatic_actor: str | None = None,
) -> IncidentSummary:
    """The summary from the incident's newest entries (`latest`, newest first, of HUMAN_KINDS) and the rest.
    Entries by `automatic_actor` (Tocsin itself, e.g. an alert's declaration) do not count as people's."""
    people = [e for e in latest if e.kind in HUMAN_KINDS and (e.actor is not None and e.actor != automatic_actor)]
    update = next((e for e in latest if e.kind is TimelineKind.UPDATE), None)
    return IncidentSummary(
        incident=incident,
        last_update=update,
        recent=tuple(reversed(people[:RECENT_SHOWN])),
        open_follow_ups=tuple(f for f in follow_ups if f.is_open),
        active_pages=tuple(p for p in pages if p.active),
        runbooks=tuple(runbooks),
        now=now,
    )
