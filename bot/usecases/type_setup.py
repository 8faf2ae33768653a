"""An incident type's part of an incident's set-up. A setup step, run once the header is shown: the type's
stakeholder channels (`notify`) hear of a public incident as the broadcast channel does. Resumable: a channel
already told (on the timeline, or its announcement found in the channel) is not told twice. And the declare's
page (setup_steps.page): a type that pages on declare pages its escalation policy instead of the service's."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, runtime_checkable

from bot.domain.errors import slack_error
from bot.domain.escalation import NewPage, plan_for_policy
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.type_policy import type_named
from bot.usecases.setup_run import SetupRun, SetupTools

log = logging.getLogger("bot.usecases.setup")

TOLD = "Told the type's stakeholders in "  # the timeline's line for each channel told


@runtime_checkable
class PolicyPaging(Protocol):
    """How the declare pages an escalation policy of its own choosing (paging's PageStarts, the set-up's
    pager: it pages services through the same `start`)."""

    async def start(self, incident: Incident | None, page: NewPage) -> int:
        """Store a page (its first step due now) and wake the timers; the page's id."""
        ...


async def page_type(tools: SetupTools, run: SetupRun, escalation: str) -> bool:
    """Page the incident type's `escalation` policy for a declare at one of its `page_on_declare`
    severities (once: a resumed set-up finds the page it started; a private incident made public was paged
    when declared). A maintenance window that silences the incident's service silences this page too."""
    incident, pager = run.incident, tools.pager
    if not isinstance(pager, PolicyPaging) or incident.moved_from is not None:
        return True
    source = f"type:{incident.incident_type}"
    if run.resumed:
        async with tools.uow(read_only=True) as uow:
            if any(p.source == source for p in await uow.pages.for_incident(incident.id)):
                return True
    if tools.silences is not None:
        now = tools.clock()
        why = await tools.silences.silencing(incident.service, incident.severity, now=now, declared=True)
        if why is not None:
            note = f"The {incident.incident_type} type's on-call was not paged: silenced by {why}"
            async with tools.uow() as uow:
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.PAGE, now, None, note))
                await uow.commit()
            log.info("%s: %s", incident.reference, note)
            return True
    plan = plan_for_policy(escalation, tools.policy)
    new = NewPage(plan, source, incident.declared_by, incident.team_id)
    return await run.step("page", pager.start(incident, new))


async def tell_type_stakeholders(tools: SetupTools, run: SetupRun) -> bool:
    """Announce a public typed incident in its type's `notify` channels (those the severity's stakeholders
    do not include already). A private incident's news stays in its channel."""
    incident = run.incident
    kind = type_named(tools.policy, incident.incident_type)
    if kind is None or incident.private or not kind.notify:
        return True
    already = set(tools.policy.stakeholder_channels(incident.severity))
    wanted = [c for c in dict.fromkeys(kind.notify) if c not in already]
    if run.resumed:
        async with tools.uow(read_only=True) as work:
            entries = await work.incidents.timeline(incident.id)
        told = {e.text.removeprefix(TOLD) for e in entries if e.kind is TimelineKind.ANNOUNCED}
        wanted = [c for c in wanted if c not in told]
    return all(await asyncio.gather(*(_tell(tools, run, channel) for channel in wanted)))


async def _tell(tools: SetupTools, run: SetupRun, channel: str) -> bool:
    incident, slack, messages = run.incident, tools.slack, tools.messages
    marker = messages.announcement_marker(incident.id)
    found = None
    if run.resumed and slack.bot_user_id:  # posted before the declare died, but not recorded?
        try:
            found = await slack.find_own_message(channel, marker, author=slack.bot_user_id)
        except Exception as exc:  # history unreadable (not a member): announce, at worst twice
            log.info("set-up of %s: could not read %s: %s", incident.reference, channel, slack_error(exc))
    if found is None and not await run.step(
        f"announce {channel}", slack.post(channel, *messages.announcement(incident))
    ):
        return False
    async with tools.uow() as work:
        await work.incidents.record(
            incident.id, TimelineEntry(TimelineKind.ANNOUNCED, tools.clock(), None, f"{TOLD}{channel}")
        )
        await work.commit()
    return True
