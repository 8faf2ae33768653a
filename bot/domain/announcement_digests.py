"""Announcement digests: in a storm of declares, the broadcast channel gets one message gathering the new
incidents instead of an announcement each (bot/domain/channel_storms.py has the rule's mechanics).

The first ANNOUNCE_STORM.threshold incidents within its window are announced on their own; the rest join
a digest that names the first DIGEST_NAMES (each with its announcement's line and marker, so a resumed
set-up finds it) and counts the others. An incident counts as announced once a post or edit that shows it
has gone out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.channel_storms import ChannelStorm, StormRule
from bot.domain.incidents import Incident

ANNOUNCE_STORM = StormRule(threshold=10, window=timedelta(minutes=2), quiet=timedelta(minutes=2))
DIGEST_NAMES = 40  # incidents a digest names (a message holds 50 blocks); the others are counted


@dataclass(eq=False, slots=True)
class AnnouncementDigest:
    """A storm's new incidents in one channel: all of them, in the order they joined, and which of them the
    message showed when it last went out."""

    opened_at: datetime
    last_at: datetime
    incidents: list[Incident] = field(default_factory=list)
    where: tuple[str, str] | None = None  # the message showing it, once posted: (channel ID, ts)
    shown: frozenset[int] = frozenset()  # incident IDs the last post or edit that went out showed

    def add(self, incident: Incident, now: datetime) -> None:
        """Gather one more incident."""
        self.incidents.append(incident)
        self.last_at = max(self.last_at, now)

    def withdraw(self, incident_id: int) -> None:
        """Take out an incident no post or edit showed (its set-up announces it on its own later)."""
        if incident_id not in self.shown:
            self.incidents = [i for i in self.incidents if i.id != incident_id]

    def showing(self) -> frozenset[int]:
        """The incidents a message rendered now shows (named or counted)."""
        return frozenset(i.id for i in self.incidents)

    @property
    def named(self) -> list[Incident]:
        """The incidents the message names, first joined first."""
        return self.incidents[:DIGEST_NAMES]

    @property
    def unnamed(self) -> int:
        """Incidents counted but not named."""
        return max(0, len(self.incidents) - DIGEST_NAMES)

    @property
    def by_severity(self) -> Counter[str]:
        """How many of each severity."""
        return Counter(i.severity for i in self.incidents)


@dataclass(slots=True)
class ChannelAnnouncements(ChannelStorm[Incident, AnnouncementDigest]):
    """One channel's recent announcements: its last few of their own, and its digest."""

    rule: StormRule = ANNOUNCE_STORM
    open_digest: type[AnnouncementDigest] = field(default_factory=lambda: AnnouncementDigest)
