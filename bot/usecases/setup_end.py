"""The end of a set-up pass: what failed for good goes on the timeline, the set-up's timer stops or is
set for the next try (backing off), the App Home is refreshed, and the declarer hears of what failed (or,
when the sweep finished a set-up whose declare died, that it is ready)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from bot.domain.errors import slack_error
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.slack_values import ReplyTarget
from bot.domain.user_refs import token_name
from bot.usecases.ports import UnitOfWork
from bot.usecases.setup_run import FIRST_RETRY, MAX_SETUP_ATTEMPTS, Problem, SetupRun, SetupTools

log = logging.getLogger("bot.usecases.setup")


async def conclude(tools: SetupTools, run: SetupRun) -> None:
    """Close the pass: record, reschedule, refresh and tell."""
    await run.stop_keeping_alive()
    incident = run.incident
    now = tools.clock()
    retrying = will_retry(run)
    # The timeline keeps what lasts: a step Slack refused for now is noted only once it is given up.
    noted = [p for p in run.problems if not (p.retryable and retrying)]
    entries = [TimelineEntry(TimelineKind.SETUP_PROBLEM, now, None, str(p)) for p in noted]
    async with tools.uow() as uow:
        await uow.incidents.record(incident.id, *entries)
        await reschedule(tools, uow, run)
        await uow.commit()
    calls: list[Awaitable[object]] = [tools.home.refresh(incident.team_id)] if tools.home is not None else []
    lasting = [p for p in run.problems if not p.retryable]
    if lasting and (run.reply_to is not None or run.resumed):
        calls.append(tell(tools, incident, run.reply_to, _problems_text(tools, incident, lasting)))
    if run.resumed and incident.setup_attempts == 0:  # the declare died: its declarer was never told
        calls.append(tell(tools, incident, None, _resumed_text(tools, incident)))
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, BaseException):
            log.warning("set-up of %s: a follow-up failed: %s", incident.reference, slack_error(result))
    if run.resumed:
        log.info("set-up of %s finished by the sweep (%d problems)", incident.reference, len(run.problems))


async def reschedule(tools: SetupTools, uow: UnitOfWork, run: SetupRun) -> None:
    """Stop the set-up timer, or (some step may work later) set it for the next try."""
    incident = run.incident
    if will_retry(run):
        due = tools.clock() + FIRST_RETRY * 2**incident.setup_attempts
        await uow.setups.retry_later(incident.id, due=due, token=run.token)
    else:
        await uow.setups.finished(incident.id, token=run.token)


def will_retry(run: SetupRun) -> bool:
    """Whether some step may work later, and the set-up has tries left."""
    return any(p.retryable for p in run.problems) and run.incident.setup_attempts < MAX_SETUP_ATTEMPTS


async def tell(tools: SetupTools, incident: Incident, reply_to: ReplyTarget | None, text: str) -> None:
    """Tell the declarer (where they asked, else by DM); never raises."""
    target = reply_to or ReplyTarget(incident.declared_by)
    if target.user_id == tools.slack.bot_user_id or token_name(target.user_id) is not None:
        return  # declared by Tocsin itself (an alert) or through the API: nobody in Slack to tell
    try:
        await tools.slack.reply(target, text)
    except Exception as exc:
        log.warning("set-up of %s: could not tell %s: %s", incident.reference, target.user_id, slack_error(exc))


def _problems_text(tools: SetupTools, incident: Incident, problems: list[Problem]) -> str:
    listed = "; ".join(str(p) for p in problems)
    return (
        f":warning: {incident.reference} is set up, but some steps failed: {tools.messages.escape(listed)}. "
        "If an announcement failed with not_in_channel, invite Tocsin to that channel."
    )


def _resumed_text(tools: SetupTools, incident: Incident) -> str:
    return (
        f":white_check_mark: {tools.messages.incident_title_line(incident)} is set up in "
        f"{tools.messages.channel_link(incident.channel_id)} (Tocsin finished it after an interruption)."
    )
