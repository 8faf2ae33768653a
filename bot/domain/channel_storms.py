"""Storms in a channel: when many messages of one kind would go to one channel at once, the first few are
posts of their own and the rest gather into one digest, posted once and edited as more join it (as
Alertmanager groups alerts and PagerDuty groups incidents). Alert notices and incident announcements
both gather this way, each kind by its own rule. A digest changes how things are shown, never whether.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar


@dataclass(frozen=True, slots=True)
class StormRule:
    """When a channel is in a storm: more than `threshold` posts of their own within `window`. A digest
    nothing joined for `quiet` is done (the next storm starts afresh); one older than `max_age` is
    replaced by a new one at the bottom of the channel (an edit moves nothing in the channel)."""

    threshold: int
    window: timedelta
    quiet: timedelta
    max_age: timedelta = timedelta(hours=1)


Item = TypeVar("Item")  # what a digest gathers: an alert notice, an announced incident
ItemIn = TypeVar("ItemIn", contravariant=True)


class StormDigest(Protocol[ItemIn]):
    """A digest: when it opened and was last joined, and how an item joins it."""

    opened_at: datetime
    last_at: datetime

    def add(self, item: ItemIn, now: datetime) -> None:
        """Gather one more item."""
        ...


D = TypeVar("D", bound=StormDigest)  # type: ignore[type-arg]


@dataclass(frozen=True, slots=True)
class Placement(Generic[D]):
    """Where an item goes: a post of its own (`digest` None), or a digest it opened or joined."""

    digest: D | None = None
    opened: bool = False


@dataclass(slots=True)
class ChannelStorm(Generic[Item, D]):
    """One channel's recent posts of one kind: when its last few of their own went out, and its digest."""

    rule: StormRule
    open_digest: type[D]  # called with opened_at= and last_at=
    recent: deque[datetime] = field(init=False)
    digest: D | None = None

    def __post_init__(self) -> None:
        """Only the last `threshold` posts of their own matter."""
        self.recent = deque(maxlen=self.rule.threshold)

    def place(self, item: Item, now: datetime) -> Placement[D]:
        """Where an item at `now` goes: its own post while the channel has had fewer than the rule's
        threshold within its window, else the channel's digest (a new one if none is gathering, at once
        when the last one is only too old)."""
        rule, digest = self.rule, self.digest
        if digest is not None and now - digest.last_at < rule.quiet and now - digest.opened_at < rule.max_age:
            digest.add(item, now)
            return Placement(digest)
        storm_goes_on = digest is not None and now - digest.last_at < rule.quiet  # it is only old
        self.digest = None
        if not storm_goes_on and sum(1 for sent in self.recent if now - sent < rule.window) < rule.threshold:
            self.recent.append(now)
            return Placement()
        opened = self.open_digest(opened_at=now, last_at=now)  # type: ignore[call-arg]
        opened.add(item, now)
        self.digest = opened
        return Placement(opened, opened=True)

    def drop(self, digest: D) -> None:
        """Forget a digest that could not be posted: the next item opens a new one."""
        if self.digest is digest:
            self.digest = None
