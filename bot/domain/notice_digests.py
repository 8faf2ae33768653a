"""Alert notice digests: in a storm, the alert notices one channel would get are gathered into one message.

The first few notices to a channel within a window are posts of their own; from then on, while notices
keep coming, they join a digest (counts by severity and by service, the first few titles) that is posted
once and edited as they arrive, as Alertmanager groups alerts and PagerDuty groups incidents. A digest
changes how alerts are shown in the channel, never whether or whom they page.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

STORM_THRESHOLD = 3  # notices of their own a channel gets within STORM_WINDOW before the next ones join a digest
STORM_WINDOW = timedelta(seconds=60)
DIGEST_QUIET = STORM_WINDOW  # a digest nothing joined for this long is done: the next storm starts afresh
# An edit moves nothing in the channel: a storm that goes on gets a new digest, at the bottom, every hour.
DIGEST_MAX_AGE = timedelta(hours=1)
DIGEST_TITLES = 5  # alerts a digest names; the others are counted


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """What a channel is told of a new alert group that does not declare an incident."""

    title: str
    severity: str
    service: str | None
    escalation_policy: str | None
    url: str | None = None


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

    def gathering(self, now: datetime) -> bool:
        """Whether a notice at `now` still joins this digest: one joined within DIGEST_QUIET, and it is
        younger than DIGEST_MAX_AGE."""
        return now - self.last_at < DIGEST_QUIET and now - self.opened_at < DIGEST_MAX_AGE


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a notice goes: a post of its own (`digest` None), or a digest it opened or joined."""

    digest: NoticeDigest | None = None
    opened: bool = False


@dataclass(slots=True)
class ChannelNotices:
    """One channel's recent alert notices: when its last few posts of their own went out, and its digest."""

    recent: deque[datetime] = field(default_factory=lambda: deque(maxlen=STORM_THRESHOLD))
    digest: NoticeDigest | None = None

    def place(self, notice: AlertNotice, now: datetime) -> Placement:
        """Where a notice at `now` goes: its own post while the channel has had fewer than STORM_THRESHOLD
        within STORM_WINDOW, else the channel's digest (a new one if none is gathering, at once when the
        last one is only too old)."""
        if self.digest is not None and self.digest.gathering(now):
            self.digest.add(notice, now)
            return Placement(self.digest)
        storm_goes_on = self.digest is not None and now - self.digest.last_at < DIGEST_QUIET  # it is only old
        self.digest = None
        if not storm_goes_on and sum(1 for sent in self.recent if now - sent < STORM_WINDOW) < STORM_THRESHOLD:
            self.recent.append(now)
            return Placement()
        self.digest = NoticeDigest(opened_at=now, last_at=now)
        self.digest.add(notice, now)
        return Placement(self.digest, opened=True)

    def drop(self, digest: NoticeDigest) -> None:
        """Forget a digest that could not be posted: the next notice opens a new one."""
        if self.digest is digest:
            self.digest = None
