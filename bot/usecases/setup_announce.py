"""A declared incident's announcements in its stakeholder channels: each its own branch, found in the
channel's history rather than posted twice when a set-up resumes."""

from __future__ import annotations

import asyncio
import logging

from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.slack import blocks
from bot.slack.gateway import SlackGateway, slack_error
from bot.usecases.ports import Clock, UnitOfWorkFactory
from bot.usecases.setup_run import SETUP_GRACE, SetupRun

log = logging.getLogger("bot.usecases.setup")


async def announce(run: SetupRun, *, uow: UnitOfWorkFactory, slack: SlackGateway, policy: Policy, clock: Clock) -> None:
    """Announce the incident where its severity wants it (a private one: at most the policy's notice)."""
    incident = run.incident
    wanted = policy.stakeholder_channels(incident.severity)
    notice = policy.private_incidents.notice
    if incident.private:  # at most the policy's line, without the title, in the broadcast channel
        wanted = [policy.broadcast_channel] if notice and policy.broadcast_channel else []
    if not wanted:
        return
    done: set[str] = set()
    if run.resumed:
        async with uow(read_only=True) as work:
            entries = await work.incidents.timeline(incident.id)
        said = _announced(incident)
        done = {e.text.removeprefix(said) for e in entries if e.kind is TimelineKind.ANNOUNCED}
    text, body = blocks.private_notice(incident, notice or "") if incident.private else blocks.announcement(incident)
    await asyncio.gather(
        *(_announce_in(run, c, text, body, uow=uow, slack=slack, clock=clock) for c in wanted if c not in done)
    )


async def _announce_in(
    run: SetupRun,
    channel: str,
    text: str,
    body: blocks.Blocks,
    *,
    uow: UnitOfWorkFactory,
    slack: SlackGateway,
    clock: Clock,
) -> None:
    incident = run.incident
    found = None
    if run.resumed and slack.bot_user_id:  # posted before the declare died, but not recorded?
        marker = blocks.announcement_marker(incident.id, private=incident.private)
        try:
            found = await slack.find_own_message(channel, marker, author=slack.bot_user_id)
        except Exception as exc:  # history unreadable (not a member): announce, at worst twice
            log.info("set-up of %s: could not read %s: %s", incident.reference, channel, slack_error(exc))
    if found is None and not await run.step(f"announce {channel}", slack.post(channel, text, body)):
        return
    now = clock()
    async with uow() as work:
        await work.incidents.record(
            incident.id, TimelineEntry(TimelineKind.ANNOUNCED, now, None, f"{_announced(incident)}{channel}")
        )
        await work.setups.progress(incident.id, finish_by=now + SETUP_GRACE, token=run.token)
        await work.commit()


def _announced(incident: Incident) -> str:
    """How the timeline records an announcement: a private incident's notice is not its announcement
    (made public later, the incident is announced as if new)."""
    return "Private notice in " if incident.private else "Announced in "
