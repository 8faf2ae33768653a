"""Setting a declared incident up in Slack, as a resumable sequence of recorded steps.

The declaring transaction stores the incident with a set-up timer (`setup_at`). Each step records its
result as soon as it arrives (the channel, the topic, the header's ts, each announcement) and pushes the
timer back; when every step is done the timer stops. A declare that dies mid-way (a crash, a deploy)
leaves the timer running, and the tick's sweep takes it over under a lease: it finds the channel by its
name rather than creating another, finds the header and announcements in the channels' history rather
than posting them twice, and only then does what is still missing. Steps Slack refused for now are
retried the same way, with backoff.

The work runs as independent branches, so one channel's pace never holds another's: the incident
channel (invite, purpose, topic, header → pin → runbooks), each stakeholder announcement, the page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.domain.channel_names import channel_name, private_channel_name
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.service_match import pages_on_declare
from bot.slack import blocks
from bot.slack.gateway import (
    MAX_CHANNEL_NAME_ATTEMPTS,
    CreatedChannel,
    ReplyTarget,
    SlackGateway,
    slack_error,
)
from bot.slack.mrkdwn import escape
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService
from bot.usecases.setup_announce import announce
from bot.usecases.setup_run import FIRST_RETRY, MAX_SETUP_ATTEMPTS, SETUP_GRACE, Problem, SetupRun, keep_alive

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class IncidentSetup:
    """The set-up steps of a declared incident, run on declare and resumed by the sweep."""

    uow: UnitOfWorkFactory
    slack: SlackGateway
    policy: Policy
    clock: Clock
    header: HeaderKeeper | None = None
    home: HomeKeeper | None = None
    pager: Pager | None = None
    runbooks: RunbookService | None = None
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
        run = SetupRun(incident, token, resumed)
        run.alive = asyncio.create_task(keep_alive(run, uow=self.uow, clock=self.clock))
        if incident.channel_id is None:
            try:
                channel = await self._open_channel(incident, resumed=resumed)
            except Exception as exc:
                run.failed("channel", exc)
                await self._channel_failed(run, reply_to)
                return run.problems
            run.incident = await self._record_channel(run, channel)
        if self.detach is not None and not resumed:
            # The declare frees its worker once its channel exists: the rest goes on as work of its own
            # (a burst of declares never waits for a worker held by another's header or pin), and so do
            # the announcements, which wait their turn in busy broadcast channels (about one post a
            # second). Whichever part finishes last concludes the set-up with every part's problems.
            run.parts = 2
            self.detach(
                lambda: self._part(
                    run, announce(run, uow=self.uow, slack=self.slack, policy=self.policy, clock=self.clock), reply_to
                )
            )
            self.detach(lambda: self._part(run, self._in_and_around(run, reply_to, page_service), reply_to))
        else:
            await asyncio.gather(
                self._in_and_around(run, reply_to, page_service),
                announce(run, uow=self.uow, slack=self.slack, policy=self.policy, clock=self.clock),
            )
            await self._conclude(run, reply_to)
        return run.problems

    def _in_and_around(self, run: SetupRun, reply_to: ReplyTarget | None, page_service: bool) -> Awaitable[object]:
        """Everything but the announcements: the channel's own steps, a move's, the page, the confirmation."""
        branches: list[Awaitable[None]] = [self._in_channel(run)]
        if run.incident.moved_from is not None:  # made public: the private channel's side of the move
            branches.append(self._finish_move(run))
        if page_service:
            branches.append(self._page(run))
        if reply_to is not None and not run.resumed:
            branches.append(self._confirm(run, reply_to))
        return asyncio.gather(*branches)

    async def _part(self, run: SetupRun, work: Awaitable[object], reply_to: ReplyTarget | None) -> None:
        await work
        run.parts -= 1
        if run.parts == 0:
            await self._conclude(run, reply_to)

    # ----- the channel ----------------------------------------------------------------------------
    async def _open_channel(self, incident: Incident, *, resumed: bool) -> CreatedChannel:
        prefix, private = self.policy.channel_prefix, incident.private

        def name_for(attempt: int) -> str:
            if private:  # the name of a private incident's channel never carries its title
                suffix = self.policy.private_incidents.channel_suffix
                return private_channel_name(prefix, incident.number, suffix, attempt=attempt)
            return channel_name(prefix, incident.number, incident.title, attempt=attempt)

        if resumed and self.slack.bot_user_id:  # it may exist already: made before the declare died
            names = [name_for(attempt) for attempt in range(1, MAX_CHANNEL_NAME_ATTEMPTS + 1)]
            found = await self.slack.find_own_channel(names, creator=self.slack.bot_user_id, private=private)
            if found is not None:
                log.info("set-up of %s: found its channel #%s from before", incident.reference, found.name)
                return found
        return await self.slack.create_channel(name_for, private=private)

    async def _record_channel(self, run: SetupRun, channel: CreatedChannel) -> Incident:
        now = self.clock()
        async with self.uow() as uow:
            await uow.incidents.set_channel(run.incident.id, channel_id=channel.id, channel_name=channel.name)
            entry = TimelineEntry(TimelineKind.CHANNEL_CREATED, now, None, f"Channel #{channel.name} created")
            await uow.incidents.record(run.incident.id, entry)
            await uow.setups.progress(run.incident.id, finish_by=now + SETUP_GRACE, token=run.token)
            await uow.commit()
        return replace(run.incident, channel_id=channel.id, channel_name=channel.name)

    async def _channel_failed(self, run: SetupRun, reply_to: ReplyTarget | None) -> None:
        await run.stop_keeping_alive()
        problem = run.problems[-1]
        incident = run.incident
        async with self.uow() as uow:
            entry = TimelineEntry(TimelineKind.SETUP_PROBLEM, self.clock(), None, str(problem))
            await uow.incidents.record(incident.id, entry)
            await self._reschedule(uow, run)
            await uow.commit()
        if problem.retryable:
            text = (
                f":hourglass: {blocks.incident_title_line(incident)} is declared; Slack is not taking new "
                f"channels right now ({problem.error}). Tocsin keeps trying and will post here when it is ready."
            )
        else:
            text = (
                f":warning: {blocks.incident_title_line(incident)} is declared, but Slack refused to create its "
                f"channel ({problem.error}). Check that Tocsin has the channels:manage scope, then try again."
            )
        await self._tell(incident, reply_to, text)

    async def _in_channel(self, run: SetupRun) -> None:
        """Invite, purpose and topic alongside the header chain: header → pin → runbooks → refresh."""
        incident = run.incident
        assert incident.channel_id is not None
        channel = incident.channel_id
        await asyncio.gather(
            run.step("invite", self.slack.invite(channel, [incident.declared_by])),
            run.step("purpose", self.slack.set_purpose(channel, blocks.purpose(incident))),
            self._topic(run),
            self._header(run),
        )

    async def _topic(self, run: SetupRun) -> None:
        incident = run.incident
        assert incident.channel_id is not None
        if incident.channel_topic is not None:
            return
        topic = blocks.topic(incident)
        if await run.step("topic", self.slack.set_topic(incident.channel_id, topic)):
            async with self.uow() as uow:  # what Slack shows now, recorded as it arrives
                await uow.incidents.update(incident.id, channel_topic=topic)
                await uow.commit()
            if self.header is not None:  # a change made while it waited (a 429) wins over it
                await self.header.refresh(incident.id)

    async def _header(self, run: SetupRun) -> None:
        incident = run.incident
        assert incident.channel_id is not None
        header_ts = incident.header_ts
        if header_ts is None and run.resumed and self.slack.bot_user_id:
            marker = f"{blocks.CONTROLS_BLOCK}:{incident.id}"
            try:
                header_ts = await self.slack.find_own_message(
                    incident.channel_id, marker, author=self.slack.bot_user_id
                )
            except Exception as exc:
                run.failed("header", exc)
                return
        if header_ts is None:
            text, body = blocks.header_message(incident, self.policy, now=self.clock())
            try:
                header_ts = await self.slack.post(incident.channel_id, text, body)
            except Exception as exc:
                run.failed("header", exc)
                return
        if incident.header_ts is None:
            now = self.clock()
            async with self.uow() as uow:
                await uow.incidents.set_header(incident.id, header_ts=header_ts)
                await uow.incidents.record(
                    incident.id, TimelineEntry(TimelineKind.HEADER_POSTED, now, None, "Header posted")
                )
                await uow.setups.progress(incident.id, finish_by=now + SETUP_GRACE, token=run.token)
                await uow.commit()
        steps: list[Awaitable[object]] = [run.step("pin", self.slack.pin(incident.channel_id, header_ts))]
        if self.runbooks is not None:
            steps.append(run.step("runbooks", self.runbooks.post_matching(incident)))
        if self.header is not None:  # whatever changed while the header was on its way is shown now
            steps.append(self.header.refresh(incident.id))
        await asyncio.gather(*steps)

    async def _finish_move(self, run: SetupRun) -> None:
        """A private incident made public: the private channel's members are invited to the new channel,
        the private channel gets a pointer (once: found by its mark when resumed) and is archived, and
        then the move is done. A step that fails leaves it to the sweep, like any other."""
        incident = run.incident
        old, new = incident.moved_from, incident.channel_id
        assert old is not None and new is not None
        try:
            members = await self.slack.channel_members(old)
        except Exception as exc:
            run.failed("move: members", exc)
            return
        people = sorted(members - {self.slack.bot_user_id or ""})
        if people and not await run.step("move: invite", self.slack.invite(new, people)):
            return
        text, body = blocks.moved_pointer(incident, new)
        found = None
        if run.resumed and self.slack.bot_user_id:
            marker = blocks.moved_marker(incident.id)
            found = await _quietly(self.slack.find_own_message(old, marker, author=self.slack.bot_user_id))
        if found is None and not await run.step("move: pointer", self.slack.post(old, text, body)):
            return
        if not await run.step("move: archive", self.slack.archive(old)):
            return
        async with self.uow() as uow:
            await uow.incidents.update(incident.id, moved_from=None)
            await uow.commit()
        log.info("%s: moved out of its private channel", incident.reference)

    # ----- announcements, paging, the declarer ------------------------------------------------------
    async def _page(self, run: SetupRun) -> None:
        incident = run.incident
        if self.pager is None or not pages_on_declare(incident.service, incident.severity, self.policy):
            return
        source = f"service:{incident.service}"
        if run.resumed:
            async with self.uow(read_only=True) as uow:
                if any(p.source == source for p in await uow.pages.for_incident(incident.id)):
                    return
        paging = self.pager.page_service(
            incident, service=incident.service or "", actor=incident.declared_by, team_id=incident.team_id
        )
        await run.step("page", paging)

    async def _confirm(self, run: SetupRun, reply_to: ReplyTarget) -> None:
        confirmation = blocks.declared_confirmation(run.incident, created=True)
        await run.step("confirm", self.slack.reply(reply_to, confirmation))

    # ----- the end of a pass ------------------------------------------------------------------------
    async def _conclude(self, run: SetupRun, reply_to: ReplyTarget | None) -> None:
        await run.stop_keeping_alive()
        incident = run.incident
        now = self.clock()
        retrying = self._will_retry(run)
        # The timeline keeps what lasts: a step Slack refused for now is noted only once it is given up.
        noted = [p for p in run.problems if not (p.retryable and retrying)]
        entries = [TimelineEntry(TimelineKind.SETUP_PROBLEM, now, None, str(p)) for p in noted]
        async with self.uow() as uow:
            await uow.incidents.record(incident.id, *entries)
            await self._reschedule(uow, run)
            await uow.commit()
        calls: list[Awaitable[object]] = [self.home.refresh(incident.team_id)] if self.home is not None else []
        lasting = [p for p in run.problems if not p.retryable]
        if lasting and (reply_to is not None or run.resumed):
            calls.append(self._tell(incident, reply_to, _problems_text(incident, lasting)))
        if run.resumed and incident.setup_attempts == 0:  # the declare died: its declarer was never told
            calls.append(self._tell(incident, None, _resumed_text(incident)))
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("set-up of %s: a follow-up failed: %s", incident.reference, slack_error(result))
        if run.resumed:
            log.info("set-up of %s finished by the sweep (%d problems)", incident.reference, len(run.problems))

    async def _reschedule(self, uow: UnitOfWork, run: SetupRun) -> None:
        """Stop the set-up timer, or (some step may work later) set it for the next try."""
        incident = run.incident
        if self._will_retry(run):
            due = self.clock() + FIRST_RETRY * 2**incident.setup_attempts
            await uow.setups.retry_later(incident.id, due=due, token=run.token)
        else:
            await uow.setups.finished(incident.id, token=run.token)

    def _will_retry(self, run: SetupRun) -> bool:
        return any(p.retryable for p in run.problems) and run.incident.setup_attempts < MAX_SETUP_ATTEMPTS

    async def _tell(self, incident: Incident, reply_to: ReplyTarget | None, text: str) -> None:
        target = reply_to or ReplyTarget(incident.declared_by)
        if target.user_id == self.slack.bot_user_id:
            return  # declared by Tocsin itself (an alert): nobody to tell
        try:
            await self.slack.reply(target, text)
        except Exception as exc:
            log.warning("set-up of %s: could not tell %s: %s", incident.reference, target.user_id, slack_error(exc))


async def _quietly(call: Awaitable[str | None]) -> str | None:
    """A look-up whose failure only means "not found"."""
    try:
        return await call
    except Exception:
        return None


def _problems_text(incident: Incident, problems: list[Problem]) -> str:
    listed = "; ".join(str(p) for p in problems)
    return (
        f":warning: {incident.reference} is set up, but some steps failed: {escape(listed)}. "
        "If an announcement failed with not_in_channel, invite Tocsin to that channel."
    )


def _resumed_text(incident: Incident) -> str:
    return (
        f":white_check_mark: {blocks.incident_title_line(incident)} is set up in "
        f"{blocks.channel_link(incident.channel_id)} (Tocsin finished it after an interruption)."
    )
