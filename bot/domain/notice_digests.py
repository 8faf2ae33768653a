"""Alert notice digests: in a storm, the alert notices one channel would get are gathered into one message.

The first few notices to a channel within a window are posts of their own; from then on, while notices
keep coming, they join a digest (counts by severity and by service, the first few titles) that is posted
once and edited as they arrive, as Alertmanager groups alerts and PagerDuty groups incidents. A digest
changes how alerts are shown in the channel, never whether or whom they page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.channel_storms import ChannelStorm, Placement, StormRule

STORM_THRESHOLD = 3  # notices of their own a channel gets within STORM_WINDOW before the next ones join a digest
STORM_WINDOW = timedelta(seconds=60)
DIGEST_QUIET = STORM_WINDOW  # a digest nothing joined for this long is done: the next storm starts afresh
# An edit moves nothing in the channel: a storm that goes on gets a new digest, at the bottom, every hour.
DIGEST_MAX_AGE = timedelta(hours=1)
DIGEST_TITLES = 5  # alerts a digest names; the others are counted
NOTICE_STORM = StormRule(STORM_THRESHOLD, STORM_WINDOW, DIGEST_QUIET, DIGEST_MAX_AGE)

__all__ = ["AlertNotice", "ChannelNotices", "NoticeDigest", "Placement"]


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """What a channel is told of a new alert group that does not declare an incident."""

    title: str
    severity: str
    service: str | None
    escalation_policy: str | None
    url: str | None = None
    silenced: str | None = None  # the maintenance window that keeps it from paging anyone


@dataclass(eq=False, slots=True)
class NoticeDigest:
    """A storm's notices to one channel: how many, by severity and by service, and the first few."""

    opened_at: datetime
    last_at: datetime
    total: int = 0
    first: list[AlertNotice] = field(default_factory=list)
    by_severity: Counter[str] = field(default_factory=Counter)
    by_service: Counter[str | None] = field(default_factory=Counter)
    where: tuple[str, str] | None = None  # the message showing it, once posted: (channel ID, ts)

    def add(self, notice: AlertNotice, now: datetime) -> None:
        """Count a notice in (and name it, if it is one of the first few)."""
        self.total += 1
        self.last_at = max(self.last_at, now)
        self.by_severity[notice.severity] += 1
        self.by_service[notice.service] += 1
        if len(self.first) < DIGEST_TITLES:
            self.first.append(notice)

    @property
    def unnamed(self) -> int:
        """Notices counted but not named."""
        return self.total - len(self.first)


@dataclass(slots=True)
class ChannelNotices(ChannelStorm[AlertNotice, "NoticeDigest"]):
    """One channel's recent alert notices: its last few posts of their own, and its digest."""

    rule: StormRule = NOTICE_STORM
    open_digest: type[NoticeDigest] = field(default_factory=lambda: NoticeDigest)
