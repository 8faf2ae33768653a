"""Announcement digests: the first ten declares within two minutes are announced alone, the rest gather;
an incident already shown stays in the digest, one not shown yet can be withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.announcement_digests import ANNOUNCE_STORM, DIGEST_NAMES, AnnouncementDigest, ChannelAnnouncements
from tests.values import an_incident

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_ten_declares_within_two_minutes_are_announced_alone_then_they_gather() -> None:
    channel = ChannelAnnouncements()
    alone = [channel.place(an_incident(id=n), T0 + timedelta(seconds=10 * n)) for n in range(ANNOUNCE_STORM.threshold)]
    assert all(p.digest is None for p in alone)
    opened = channel.place(an_incident(id=99, severity="SEV1"), T0 + timedelta(seconds=100))
    assert opened.opened and opened.digest is not None
    for n in range(100, 100 + DIGEST_NAMES + 3):
        assert channel.place(an_incident(id=n), T0 + timedelta(seconds=101)).digest is opened.digest
    digest = opened.digest
    assert len(digest.named) == DIGEST_NAMES and digest.unnamed == 4
    assert digest.by_severity == {"SEV1": 1, "SEV2": DIGEST_NAMES + 3}


def test_only_an_incident_no_message_showed_can_be_withdrawn() -> None:
    digest = AnnouncementDigest(opened_at=T0, last_at=T0)
    for n in (1, 2):
        digest.add(an_incident(id=n), T0)
    digest.shown = digest.showing()
    digest.add(an_incident(id=3), T0)
    digest.withdraw(1)
    digest.withdraw(3)
    assert [i.id for i in digest.incidents] == [1, 2]
