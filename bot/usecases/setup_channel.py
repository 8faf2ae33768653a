"""The set-up's first step: the incident's channel. Resumed, the channel made before the declare died is
found by its name rather than made twice; once it exists it is recorded at once. Without it nothing else
can follow, so a failure ends the pass: it is noted, the declarer is told, and the timer set to retry
(when Slack refused for now)."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.domain.channel_names import channel_name, private_channel_name
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.slack_values import MAX_CHANNEL_NAME_ATTEMPTS, CreatedChannel
from bot.usecases.setup_end import reschedule, tell
from bot.usecases.setup_run import SETUP_GRACE, SetupRun, SetupTools

log = logging.getLogger("bot.usecases.setup")


async def open_channel(tools: SetupTools, run: SetupRun) -> bool:
    """Find or make the channel and record it on the incident (and the run); False when there is none."""
    try:
        channel = await _find_or_create(tools, run.incident, resumed=run.resumed)
    except Exception as exc:
        run.failed("channel", exc)
        await _failed(tools, run)
        return False
    now = tools.clock()
    async with tools.uow() as uow:
        await uow.incidents.set_channel(run.incident.id, channel_id=channel.id, channel_name=channel.name)
        entry = TimelineEntry(TimelineKind.CHANNEL_CREATED, now, None, f"Channel #{channel.name} created")
        await uow.incidents.record(run.incident.id, entry)
        await uow.setups.progress(run.incident.id, finish_by=now + SETUP_GRACE, token=run.token)
        await uow.commit()
    run.incident = replace(run.incident, channel_id=channel.id, channel_name=channel.name)
    return True


async def _find_or_create(tools: SetupTools, incident: Incident, *, resumed: bool) -> CreatedChannel:
    prefix, private, slack = tools.policy.channel_prefix, incident.private, tools.slack

    def name_for(attempt: int) -> str:
        if private:  # the name of a private incident's channel never carries its title
            suffix = tools.policy.private_incidents.channel_suffix
            return private_channel_name(prefix, incident.number, suffix, attempt=attempt)
        return channel_name(prefix, incident.number, incident.title, attempt=attempt)

    if resumed and slack.bot_user_id:  # it may exist already: made before the declare died
        names = [name_for(attempt) for attempt in range(1, MAX_CHANNEL_NAME_ATTEMPTS + 1)]
        found = await slack.find_own_channel(names, creator=slack.bot_user_id, private=private)
        if found is not None:
            log.info("set-up of %s: found its channel #%s from before", incident.reference, found.name)
            return found
    return await slack.create_channel(name_for, private=private)


async def _failed(tools: SetupTools, run: SetupRun) -> None:
    """No channel: the problem goes on the timeline, the timer is set (or stopped), the declarer told."""
    await run.stop_keeping_alive()
    problem = run.problems[-1]
    incident = run.incident
    async with tools.uow() as uow:
        entry = TimelineEntry(TimelineKind.SETUP_PROBLEM, tools.clock(), None, str(problem))
        await uow.incidents.record(incident.id, entry)
        await reschedule(tools, uow, run)
        await uow.commit()
    title = tools.messages.incident_title_line(incident)
    if problem.retryable:
        text = (
            f":hourglass: {title} is declared; Slack is not taking new "
            f"channels right now ({problem.error}). Tocsin keeps trying and will post here when it is ready."
        )
    else:
        text = (
            f":warning: {title} is declared, but Slack refused to create its "
            f"channel ({problem.error}). Check that Tocsin has the channels:manage scope, then try again."
        )
    await tell(tools, incident, run.reply_to, text)
