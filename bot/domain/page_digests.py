"""Page digests: in a storm, the pages one person gets are gathered into one DM instead of one DM each.

The first few pages within a window reach a person as DMs of their own; from then on, while pages keep
coming, they join a digest DM that is edited as they arrive. Each page in it is still acknowledged on its
own (or all at once), and still escalates on its own clock: a digest changes how pages are shown, never
whether or when they are sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

STORM_THRESHOLD = 3  # DMs of their own a person gets within STORM_WINDOW before pages join a digest
STORM_WINDOW = timedelta(minutes=2)
MAX_DIGEST_PAGES = 40  # a message holds 50 blocks: past this a new digest DM starts


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One page as its digest shows it."""

    page_id: int
    title: str
    severity: str
    status: str
    acknowledged_by: str | None
    channel_id: str | None  # its incident's channel, if it has one


@dataclass(frozen=True, slots=True)
class Digest:
    """A digest DM: whose it is, where it was posted (once it was), and its pages, oldest first."""

    id: int
    user_id: str
    channel: str | None
    ts: str | None
    entries: tuple[DigestEntry, ...] = ()


def joins_digest(*, recent_dms: int, open_digest: bool) -> bool:
    """Whether a page to a person joins a digest: one is open for them already, or they have had
    STORM_THRESHOLD pages of their own within the window."""
    return open_digest or recent_dms >= STORM_THRESHOLD


def window_start(now: datetime) -> datetime:
    """The earliest DM that still counts towards a storm at `now`."""
    return now - STORM_WINDOW
