"""The store of heartbeats and maintenance windows (`uow.watch`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.domain.alerts import AlertBatch
from bot.domain.heartbeats import HeartbeatState
from bot.domain.maintenance import NewWindow, Window
from bot.domain.slack_values import Blocks

Message = tuple[str, Blocks]


class WatchStore(Protocol):
    """Heartbeats and maintenance windows."""

    async def know_heartbeat(self, name: str, *, now: datetime) -> HeartbeatState:
        """The heartbeat's state (held until the transaction ends), stored first (known since `now`) if it
        was not."""
        ...

    async def heartbeat(self, name: str) -> HeartbeatState | None:
        """The heartbeat's state, if stored."""
        ...

    async def next_generation(self, name: str, *, generation: int) -> bool:
        """Move the heartbeat on to its next deadline job (its job of `generation` was used up)."""
        ...

    async def heartbeats(self) -> Sequence[HeartbeatState]:
        """Every stored heartbeat's state, by name."""
        ...

    async def beat(self, name: str, *, at: datetime) -> None:
        """Record a beat at `at` (the heartbeat is no longer missed)."""
        ...

    async def mark_missed(self, name: str, *, generation: int, at: datetime, silent_since: datetime) -> bool:
        """Mark the heartbeat missed, unless it already is, its `generation` moved on, or it was heard from
        (or first known) after `silent_since` (a beat or another replica got there first); whether this
        call did."""
        ...

    async def add_window(self, new: NewWindow) -> Window:
        """Store a window; a recurring window's occurrence stored before is given back as it is."""
        ...

    async def window(self, window_id: int) -> Window | None:
        """One window."""
        ...

    async def windows(self, *, now: datetime, service: str | None = None) -> Sequence[Window]:
        """The windows not over at `now` (active or to come; of `service` only, if given), soonest first."""
        ...

    async def end_window(self, window_id: int, *, at: datetime) -> Window | None:
        """End a window early at `at`; the window as it is now, or None when it was over already."""
        ...

    async def drop_window(self, window_id: int) -> None:
        """Forget a window that has not started (an occurrence the policy no longer has)."""
        ...


class Alerting(Protocol):
    """The alert intake: a missed heartbeat raises its alert through the routing like any other."""

    async def receive(self, batch: AlertBatch) -> dict[str, object]:
        """Store the batch; start, update or stand down what it calls for."""
        ...


class WatchViews(Protocol):
    """How heartbeats and maintenance windows are shown (bot/slack/blocks/watch.py)."""

    def maintenance_started(self, window: Window) -> Message:
        """The broadcast channel's notice of a window beginning."""
        ...

    def maintenance_ended(self, window: Window, *, ended_by: str | None) -> Message:
        """The broadcast channel's notice of a window ending (early, by `ended_by`)."""
        ...

    def maintenance_list(self, windows: Sequence[Window], *, now: datetime) -> Message:
        """`/incident maintenance`: the windows active and to come."""
        ...

    def maintenance_set(self, window: Window) -> str:
        """The reply to whoever made a window."""
        ...

    def maintenance_cut_short(self, windows: Sequence[Window]) -> str:
        """The reply to whoever ended windows early."""
        ...

    def home_section(self, windows: Sequence[Window], missed: Sequence[HeartbeatState], *, now: datetime) -> Blocks:
        """App Home's part: windows active and to come, heartbeats missed."""
        ...
