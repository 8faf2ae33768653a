"""The set-up's announcements step: a declared incident announced in its stakeholder channels, each its
own branch, found in the channel's history rather than posted twice when a set-up resumes."""

from __future__ import annotations

import asyncio
import logging

from bot.domain.errors import slack_error
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.slack_values import Blocks
from bot.usecases.setup_run import SETUP_GRACE, SetupRun, SetupTools

log = logging.getLogger("bot.usecases.setup")


async def announce(tools: SetupTools, run: SetupRun) -> bool:
    """Announce the incident where its severity wants it (a private one: at most the policy's notice);
    done when every channel has it."""
    incident, policy, messages = run.incident, tools.policy, tools.messages
    wanted = policy.stakeholder_channels(incident.severity)
    notice = policy.private_incidents.notice
    if incident.private:  # at most the policy's line, without the title, in the broadcast channel
        wanted = [policy.broadcast_channel] if notice and policy.broadcast_channel else []
    if not wanted:
        return True
    done: set[str] = set()
    if run.resumed:
        async with tools.uow(read_only=True) as work:
            entries = await work.incidents.timeline(incident.id)
        said = _announced(incident)
        done = {e.text.removeprefix(said) for e in entries if e.kind is TimelineKind.ANNOUNCED}
    message = messages.private_notice(incident, notice or "") if incident.private else messages.announcement(incident)
    marker = messages.announcement_marker(incident.id, private=incident.private)  # finds it again when resumed
    posted = await asyncio.gather(*(_announce_in(tools, run, c, message, marker) for c in wanted if c not in done))
    return all(posted)


async def _announce_in(
    tools: SetupTools, run: SetupRun, channel: str, message: tuple[str, Blocks], marker: str
) -> bool:
    incident, slack = run.incident, tools.slack
    text, body = message
    found = None
    if run.resumed and slack.bot_user_id:  # posted before the declare died, but not recorded?
        try:
            found = await slack.find_own_message(channel, marker, author=slack.bot_user_id)
        except Exception as exc:  # history unreadable (not a member): announce, at worst twice
            log.info("set-up of %s: could not read %s: %s", incident.reference, channel, slack_error(exc))
    # A storm of declares gathers in one message per channel; a resumed set-up's announcement, and a
    # private incident's notice, go out on their own.
    if found is None:
        gathered = not run.resumed and not incident.private
        send = tools.storms.announce(channel, incident, message) if gathered else slack.post(channel, text, body)
        if not await run.step(f"announce {channel}", send):
            return False
    now = tools.clock()
    async with tools.uow() as work:
        await work.incidents.record(
            incident.id, TimelineEntry(TimelineKind.ANNOUNCED, now, None, f"{_announced(incident)}{channel}")
        )
        await work.setups.progress(incident.id, finish_by=now + SETUP_GRACE, token=run.token)
        await work.commit()
    return True


def _announced(incident: Incident) -> str:
    """How the timeline records an announcement: a private incident's notice is not its announcement
    (made public later, the incident is announced as if new)."""
    return "Private notice in " if incident.private else "Announced in "
