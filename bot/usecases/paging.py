"""Paging: start a page, notify each tier in turn until someone acknowledges, repeat, give up loudly.

`Pager` is what the surfaces, the timers and the other use cases are given; it is made of one part per
thing paging does, each with only the collaborators it needs:

- `PageStarts` (page_starts.py): storing a page due now and waking the timers;
- `PageSteps` (page_steps.py): the timer's side, sending a due step or re-opening a timed-out acknowledgement;
- `PageAnswers` (page_answers.py): acknowledge, acknowledge all, decline, cancel;
- `PageDms` (page_dms.py): the DMs, gathered into a digest in a storm and settled once a page is answered;
- `OnCallLookup` (oncall.py): who the schedules have on call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.escalation import NewPage, Page
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.timer_results import AckTimedOut, PageStepped, TimerResult
from bot.runtime.metrics import Metrics
from bot.usecases.directory import UserDirectory
from bot.usecases.hooks import Hooks
from bot.usecases.message_ports import Messages
from bot.usecases.oncall import OnCallLookup, OnCallRow
from bot.usecases.page_answers import PageAnswers
from bot.usecases.page_dms import PageDms
from bot.usecases.page_starts import PageStarts
from bot.usecases.page_steps import PageSteps
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory


def _no_timers() -> None:
    """Nothing to wake (a pager built without timers)."""


@dataclass
class Pager:
    """The paging use cases, each answered by the part that does it."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    metrics: Metrics
    wake: Callable[[], None] = _no_timers  # asks the timers to tick now
    directory: UserDirectory | None = None  # whose the users named by e-mail are (shared, so its cache is)
    hooks: Hooks = field(default_factory=Hooks)  # contact rules, round robin, overrides made from Slack
    dms: PageDms = field(init=False)
    starts: PageStarts = field(init=False)
    steps: PageSteps = field(init=False)
    answers: PageAnswers = field(init=False)
    on_call: OnCallLookup = field(init=False)

    def __post_init__(self) -> None:
        """The parts, sharing the DMs (one storm-aware sender, so one digest per person)."""
        self.dms = PageDms(self.uow, self.slack, self.messages)
        self.starts = PageStarts(self.uow, self.policy, self.clock, wake=self.wake, schedules=self.hooks.schedules)
        self.steps = PageSteps(
            self.uow,
            self.slack,
            self.messages,
            self.policy,
            self.clock,
            self.metrics,
            self.dms,
            wake=self.wake,
            directory=self.directory,
            contacts=self.hooks.contacts,
            rotation=self.hooks.rotation,
        )
        self.answers = PageAnswers(
            self.uow, self.slack, self.messages, self.clock, self.metrics, self.dms, wake=self.wake
        )
        self.on_call = OnCallLookup(self.policy, self.clock)

    # ----- starting (PageStarts) -------------------------------------------------------------------
    async def page_service(self, incident: Incident | None, *, service: str, actor: str, team_id: str) -> int:
        """Page a service's on-call through its escalation policy."""
        return await self.starts.page_service(incident, service=service, actor=actor, team_id=team_id)

    async def page_user(self, incident: Incident | None, *, user_id: str, actor: str, team_id: str) -> int:
        """Page one person."""
        return await self.starts.page_user(incident, user_id=user_id, actor=actor, team_id=team_id)

    async def start(self, incident: Incident | None, page: NewPage) -> int:
        """Store a page (its first step due now) and wake the timers."""
        return await self.starts.start(incident, page)

    async def store(self, uow: UnitOfWork, incident: Incident | None, page: NewPage) -> int:
        """Store a page in the caller's unit of work (call `started` once it commits)."""
        return await self.starts.store(uow, incident, page)

    def started(self, page_id: int, incident: Incident | None, page: NewPage) -> None:
        """A stored page committed: log it and let the timers send its first step now."""
        self.starts.started(page_id, incident, page)

    # ----- the timer's side (PageSteps) ------------------------------------------------------------
    async def send_step(self, page: Page, channel_id: str | None, *, now: datetime) -> TimerResult:
        """Notify the next tier of `page`, or re-open it; what to record."""
        return await self.steps.send_step(page, channel_id, now=now)

    async def recorded(self, result: PageStepped, *, taken: bool) -> None:
        """The step is on record. `taken`: the page was still escalating (not answered meanwhile)."""
        await self.steps.recorded(result, taken=taken)

    async def reopened(self, result: AckTimedOut, *, taken: bool) -> None:
        """The ack timeout is on record. `taken`: the page was re-opened."""
        await self.steps.reopened(result, taken=taken)

    # ----- answering (PageAnswers) -----------------------------------------------------------------
    async def get(self, page_id: int) -> Page:
        """A page by id."""
        return await self.answers.get(page_id)

    async def acknowledge(
        self, page_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime | None = None, quiet: bool = False
    ) -> bool:
        """Stop the escalation; whether this was the page's first acknowledgement."""
        return await self.answers.acknowledge(page_id, actor=actor, reply_to=reply_to, at=at, quiet=quiet)

    async def acknowledge_all(
        self, digest_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime | None = None
    ) -> None:
        """Acknowledge every page of a digest DM that paged `actor` and is still escalating."""
        await self.answers.acknowledge_all(digest_id, actor=actor, reply_to=reply_to, at=at)

    async def decline(self, page_id: int, *, actor: str, reply_to: ReplyTarget, at: datetime | None = None) -> None:
        """Pass the page on: the next tier is notified now."""
        await self.answers.decline(page_id, actor=actor, reply_to=reply_to, at=at)

    async def cancel(self, page_id: int, *, reason: str) -> bool:
        """Stop a page (its alerts resolved); False when it was not escalating."""
        return await self.answers.cancel(page_id, reason=reason)

    async def settle_stopped(self, page_ids: Sequence[int], *, reason: str) -> None:
        """Pages stopped along with something else (their incident was resolved): their DMs say why."""
        await self.answers.settle_stopped(page_ids, reason=reason)

    # ----- on call (OnCallLookup) ------------------------------------------------------------------
    def on_call_now(self, service: str | None) -> list[OnCallRow]:
        """For `/incident oncall`: each schedule (of a service, or all) with who is on call and the next handoff."""
        return self.on_call.now(service)
