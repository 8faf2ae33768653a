"""Setting a declared incident up in Slack, as a resumable sequence of recorded steps.

The declaring transaction stores the incident with a set-up timer (`setup_at`). Each step records its
result as soon as it arrives (the channel, the topic, the header's ts, each announcement) and pushes the
timer back; when every step is done the timer stops. A declare that dies mid-way (a crash, a deploy)
leaves the timer running, and the tick's sweep takes it over under a lease: it finds the channel by its
name rather than creating another, finds the header and announcements in the channels' history rather
than posting them twice, and only then does what is still missing. Steps Slack refused for now are
retried the same way, with backoff.

The steps, in the order their constraints give them:

    channel                                      (setup_channel.py; without it the pass ends)
    then, as independent branches, so one channel's pace never holds another's:
      announcements, one branch per channel      (setup_announce.py)
      invite · purpose · topic · header → (pin · runbooks · the header shown anew)
      · the move out of a private channel · the page · the declarer's confirmation   (setup_steps.py)
    then the end of the pass                     (setup_end.py: record, reschedule, tell)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.incidents import Incident
from bot.domain.slack_values import ReplyTarget
from bot.usecases.setup_announce import announce
from bot.usecases.setup_channel import open_channel
from bot.usecases.setup_end import conclude
from bot.usecases.setup_run import Problem, SetupRun, SetupTools, Step, keep_alive, then, together
from bot.usecases.setup_steps import (
    confirm,
    finish_move,
    header,
    invite,
    page,
    pin,
    post_runbooks,
    purpose,
    show_header,
    topic,
)

# The channel's own steps: invite, purpose and topic alongside the header, which its pin, the runbooks and
# a refresh of the header follow.
IN_CHANNEL: Step = together(invite, purpose, topic, then(header, pin, post_runbooks, show_header))


@dataclass(frozen=True)
class IncidentSetup(SetupTools):
    """The set-up steps of a declared incident, run on declare and resumed by the sweep; what it is built
    with (SetupTools) is what every step is given."""

    # Runs a job outside the worker pool (tracked, so a stop waits for it): how announcements go on
    # without holding the declare. None runs them inline.
    detach: Callable[[Callable[[], Awaitable[None]]], None] | None = None

    async def run(
        self,
        incident: Incident,
        *,
        reply_to: ReplyTarget | None,
        page_service: bool = True,
        token: str | None = None,
        resumed: bool = False,
    ) -> list[Problem]:
        """Do every step not done yet; returns what failed (a retryable failure keeps the timer running)."""
        run = SetupRun(incident, token, resumed, reply_to)
        run.alive = asyncio.create_task(keep_alive(run, uow=self.uow, clock=self.clock))
        if incident.channel_id is None and not await open_channel(self, run):
            return run.problems
        around = self._around(run, page_service=page_service)
        if self.detach is not None and not resumed:
            # The declare frees its worker once its channel exists: the rest goes on as work of its own
            # (a burst of declares never waits for a worker held by another's header or pin), and so do
            # the announcements, which wait their turn in busy broadcast channels (about one post a
            # second). Whichever part finishes last concludes the set-up with every part's problems.
            run.parts = 2
            self.detach(lambda: self._part(run, announce))
            self.detach(lambda: self._part(run, around))
        else:
            await together(around, announce)(self, run)
            await conclude(self, run)
        return run.problems

    def _around(self, run: SetupRun, *, page_service: bool) -> Step:
        """Everything but the announcements: the channel's own steps, a move's, the page, the confirmation."""
        steps = [then(IN_CHANNEL, *self.extra_steps) if self.extra_steps else IN_CHANNEL]
        if run.incident.moved_from is not None:  # made public: the private channel's side of the move
            steps.append(finish_move)
        if page_service:
            steps.append(page)
        if run.reply_to is not None and not run.resumed:
            steps.append(confirm)
        return together(*steps)

    async def _part(self, run: SetupRun, part: Step) -> None:
        await part(self, run)
        run.parts -= 1
        if run.parts == 0:
            await conclude(self, run)
