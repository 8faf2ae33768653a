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
from dataclasses import dataclass, field, replace
from datetime import timedelta
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
from bot.slack.web_client import retryable
from bot.usecases.live_views import HeaderKeeper, HomeKeeper
from bot.usecases.paging import Pager
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.runbooks import RunbookService

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# A declare in progress holds its set-up this long past its last recorded step; after that (it died) the
# sweep may take it over.
SETUP_GRACE = timedelta(minutes=2)
FIRST_RETRY = timedelta(minutes=1)
MAX_SETUP_ATTEMPTS = 8  # 1, 2, 4 … minutes: about four hours of Slack refusing before giving up


@dataclass(frozen=True, slots=True)
class Problem:
    """A set-up step that failed: which, Slack's error, and whether trying later may work."""

    step: str
    error: str
    retryable: bool

    def __str__(self) -> str:
        """`step: error`, as the declarer and the timeline see it."""
        return f"{self.step}: {self.error}"


@dataclass
class _Run:
    """One pass over the set-up: the incident as it is recorded so far, and what failed."""

    incident: Incident
    token: str | None
    resumed: bool
    problems: list[Problem] = field(default_factory=list)
    parts: int = 1  # parts still running; the last one to finish concludes

    def failed(self, step: str, exc: BaseException) -> None:
        log.warning("set-up of %s: %s failed: %s", self.incident.reference, step, slack_error(exc))
        self.problems.append(Problem(step, slack_error(exc), retryable(exc)))


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
        run = _Run(incident, token, resumed)
        if incident.channel_id is None:
            try:
                channel = await self._open_channel(incident, resumed=resumed)
            except Exception as exc:
                run.failed("channel", exc)
                await self._channel_failed(run, reply_to)
                return run.problems
            run.incident = await self._record_channel(run, channel)
        branches: list[Awaitable[None]] = [self._in_channel(run)]
        if run.incident.moved_from is not None:  # made public: the private channel's side of the move
            branches.append(self._finish_move(run))
        if page_service:
            branches.append(self._page(run))
        if reply_to is not None and not resumed:
            branches.append(self._confirm(run, reply_to))
        if self.detach is not None and not resumed:
            # Announcements wait their turn in busy broadcast channels (about one post a second): they go
            # on as work of their own, so the declare frees its worker once the incident channel is set
            # up. Whichever part finishes last concludes the set-up with every part's problems.
            run.parts = 2
            self.detach(lambda: self._part(run, self._announce(run), reply_to))
            await self._part(run, asyncio.gather(*branches), reply_to)
        else:
            await asyncio.gather(*branches, self._announce(run))
            await self._conclude(run, reply_to)
        return run.problems

    async def _part(self, run: _Run, work: Awaitable[object], reply_to: ReplyTarget | None) -> None:
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

    async def _record_channel(self, run: _Run, channel: CreatedChannel) -> Incident:
        now = self.clock()
        async with self.uow() as uow:
            await uow.incidents.set_channel(run.incident.id, channel_id=channel.id, channel_name=channel.name)
            entry = TimelineEntry(TimelineKind.CHANNEL_CREATED, now, None, f"Channel #{channel.name} created")
            await uow.incidents.record(run.incident.id, entry)
            await uow.setups.progress(run.incident.id, finish_by=now + SETUP_GRACE, token=run.token)
            await uow.commit()
        return replace(run.incident, channel_id=channel.id, channel_name=channel.name)

    async def _channel_failed(self, run: _Run, reply_to: ReplyTarget | None) -> None:
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

    async def _in_channel(self, run: _Run) -> None:
        """Invite, purpose and topic alongside the header chain: header → pin → runbooks → refresh."""
        incident = run.incident
        assert incident.channel_id is not None
        channel = incident.channel_id
        await asyncio.gather(
            self._step(run, "invite", self.slack.invite(channel, [incident.declared_by])),
            self._step(run, "purpose", self.slack.set_purpose(channel, blocks.purpose(incident))),
            self._topic(run),
            self._header(run),
        )

    async def _topic(self, run: _Run) -> None:
        incident = run.incident
        assert incident.channel_id is not None
        if incident.channel_topic is not None:
            return
        topic = blocks.topic(incident)
        if await self._step(run, "topic", self.slack.set_topic(incident.channel_id, topic)):
            async with self.uow() as uow:  # what Slack shows now, recorded as it arrives
                await uow.incidents.update(incident.id, channel_topic=topic)
                await uow.commit()
            if self.header is not None:  # a change made while it waited (a 429) wins over it
                await self.header.refresh(incident.id)

    async def _header(self, run: _Run) -> None:
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
        steps: list[Awaitable[object]] = [self._step(run, "pin", self.slack.pin(incident.channel_id, header_ts))]
        if self.runbooks is not None:
            steps.append(self._step(run, "runbooks", self.runbooks.post_matching(incident)))
        if self.header is not None:  # whatever changed while the header was on its way is shown now
            steps.append(self.header.refresh(incident.id))
        await asyncio.gather(*steps)

    async def _finish_move(self, run: _Run) -> None:
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
        if people and not await self._step(run, "move: invite", self.slack.invite(new, people)):
            return
        text, body = blocks.moved_pointer(incident, new)
        found = None
        if run.resumed and self.slack.bot_user_id:
            marker = blocks.moved_marker(incident.id)
            found = await _quietly(self.slack.find_own_message(old, marker, author=self.slack.bot_user_id))
        if found is None and not await self._step(run, "move: pointer", self.slack.post(old, text, body)):
            return
        if not await self._step(run, "move: archive", self.slack.archive(old)):
            return
        async with self.uow() as uow:
            await uow.incidents.update(incident.id, moved_from=None)
            await uow.commit()
        log.info("%s: moved out of its private channel", incident.reference)

    # ----- announcements, paging, the declarer ------------------------------------------------------
    async def _announce(self, run: _Run) -> None:
        incident = run.incident
        wanted = self.policy.stakeholder_channels(incident.severity)
        notice = self.policy.private_incidents.notice
        if incident.private:  # at most the policy's line, without the title, in the broadcast channel
            wanted = [self.policy.broadcast_channel] if notice and self.policy.broadcast_channel else []
        if not wanted:
            return
        done: set[str] = set()
        if run.resumed:
            async with self.uow(read_only=True) as uow:
                entries = await uow.incidents.timeline(incident.id)
            said = _announced(incident)
            done = {e.text.removeprefix(said) for e in entries if e.kind is TimelineKind.ANNOUNCED}
        text, body = (
            blocks.private_notice(incident, notice or "") if incident.private else blocks.announcement(incident)
        )
        await asyncio.gather(*(self._announce_in(run, c, text, body) for c in wanted if c not in done))

    async def _announce_in(self, run: _Run, channel: str, text: str, body: blocks.Blocks) -> None:
        incident = run.incident
        found = None
        if run.resumed and self.slack.bot_user_id:  # posted before the declare died, but not recorded?
            marker = blocks.announcement_marker(incident.id, private=incident.private)
            try:
                found = await self.slack.find_own_message(channel, marker, author=self.slack.bot_user_id)
            except Exception as exc:  # history unreadable (not a member): announce, at worst twice
                log.info("set-up of %s: could not read %s: %s", incident.reference, channel, slack_error(exc))
        if found is None and not await self._step(run, f"announce {channel}", self.slack.post(channel, text, body)):
            return
        now = self.clock()
        async with self.uow() as uow:
            await uow.incidents.record(
                incident.id, TimelineEntry(TimelineKind.ANNOUNCED, now, None, f"{_announced(incident)}{channel}")
            )
            await uow.setups.progress(incident.id, finish_by=now + SETUP_GRACE, token=run.token)
            await uow.commit()

    async def _page(self, run: _Run) -> None:
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
        await self._step(run, "page", paging)

    async def _confirm(self, run: _Run, reply_to: ReplyTarget) -> None:
        confirmation = blocks.declared_confirmation(run.incident, created=True)
        await self._step(run, "confirm", self.slack.reply(reply_to, confirmation))

    # ----- the end of a pass ------------------------------------------------------------------------
    async def _conclude(self, run: _Run, reply_to: ReplyTarget | None) -> None:
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

    async def _reschedule(self, uow: UnitOfWork, run: _Run) -> None:
        """Stop the set-up timer, or (some step may work later) set it for the next try."""
        incident = run.incident
        if self._will_retry(run):
            due = self.clock() + FIRST_RETRY * 2**incident.setup_attempts
            await uow.setups.retry_later(incident.id, due=due, token=run.token)
        else:
            await uow.setups.finished(incident.id, token=run.token)

    def _will_retry(self, run: _Run) -> bool:
        return any(p.retryable for p in run.problems) and run.incident.setup_attempts < MAX_SETUP_ATTEMPTS

    async def _step(self, run: _Run, name: str, call: Awaitable[object]) -> bool:
        """Run one Slack step; a failure is noted (not raised), so the other steps go on."""
        try:
            await call
        except Exception as exc:
            run.failed(name, exc)
            return False
        return True

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


def _announced(incident: Incident) -> str:
    """How the timeline records an announcement: a private incident's notice is not its announcement
    (made public later, the incident is announced as if new)."""
    return "Private notice in " if incident.private else "Announced in "


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
