"""The set-up's steps in and around the incident channel, each a `Step` (setup_run.py): given the tools and
the pass, it does its part, notes a failure on the pass rather than raising it, and says whether it is done.
What a step records, it records as soon as Slack has answered; resumed, a step finds what it did before
(the header by its mark, the move's pointer by its) rather than doing it twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import replace

from bot.domain.incidents import TimelineEntry, TimelineKind
from bot.domain.service_match import pages_on_declare
from bot.domain.type_policy import declare_paging
from bot.domain.user_refs import token_name
from bot.usecases.setup_run import SETUP_GRACE, SetupRun, SetupTools
from bot.usecases.type_setup import page_type

log = logging.getLogger("bot.usecases.setup")


def _channel(run: SetupRun) -> str:
    """The incident's channel (the steps after the channel's own run only once it exists)."""
    assert run.incident.channel_id is not None
    return run.incident.channel_id


async def invite(tools: SetupTools, run: SetupRun) -> bool:
    """The declarer joins the channel (a person: an API token has no place in it)."""
    if token_name(run.incident.declared_by) is not None:
        return True
    return await run.step("invite", tools.slack.invite(_channel(run), [run.incident.declared_by]))


async def purpose(tools: SetupTools, run: SetupRun) -> bool:
    """The channel's purpose says what the incident is."""
    return await run.step("purpose", tools.slack.set_purpose(_channel(run), tools.messages.purpose(run.incident)))


async def topic(tools: SetupTools, run: SetupRun) -> bool:
    """The channel's topic, set once and recorded as Slack shows it; the header then shows any change made
    while it waited (a 429), which wins over it."""
    incident = run.incident
    if incident.channel_topic is not None:
        return True
    shown = tools.messages.topic(incident)
    if not await run.step("topic", tools.slack.set_topic(_channel(run), shown)):
        return False
    async with tools.uow() as uow:  # what Slack shows now, recorded as it arrives
        await uow.incidents.update(incident.id, channel_topic=shown)
        await uow.commit()
    if tools.header is not None:
        await tools.header.refresh(incident.id)
    return True


async def header(tools: SetupTools, run: SetupRun) -> bool:
    """The header message: found by its mark when resumed, else posted; recorded on the incident (and so
    on the run, for the steps that follow it)."""
    incident, channel = run.incident, _channel(run)
    header_ts = incident.header_ts
    if header_ts is None and run.resumed and tools.slack.bot_user_id:
        marker = f"{tools.messages.CONTROLS_BLOCK}:{incident.id}"
        try:
            header_ts = await tools.slack.find_own_message(channel, marker, author=tools.slack.bot_user_id)
        except Exception as exc:
            run.failed("header", exc)
            return False
    if header_ts is None:
        text, body = tools.messages.header_message(incident, tools.policy, now=tools.clock())
        try:
            header_ts = await tools.slack.post(channel, text, body)
        except Exception as exc:
            run.failed("header", exc)
            return False
    if incident.header_ts is None:
        now = tools.clock()
        async with tools.uow() as uow:
            await uow.incidents.set_header(incident.id, header_ts=header_ts)
            await uow.incidents.record(
                incident.id, TimelineEntry(TimelineKind.HEADER_POSTED, now, None, "Header posted")
            )
            await uow.setups.progress(incident.id, finish_by=now + SETUP_GRACE, token=run.token)
            await uow.commit()
        run.incident = replace(run.incident, header_ts=header_ts)
    return True


async def pin(tools: SetupTools, run: SetupRun) -> bool:
    """The header is pinned (after `header`)."""
    assert run.incident.header_ts is not None
    return await run.step("pin", tools.slack.pin(_channel(run), run.incident.header_ts))


async def post_runbooks(tools: SetupTools, run: SetupRun) -> bool:
    """The runbooks that match the incident, below the header (after `header`)."""
    if tools.runbooks is None:
        return True
    return await run.step("runbooks", tools.runbooks.post_matching(run.incident))


async def show_header(tools: SetupTools, run: SetupRun) -> bool:
    """Whatever changed while the header was on its way is shown in it now (after `header`)."""
    if tools.header is not None:
        await tools.header.refresh(run.incident.id)
    return True


async def finish_move(tools: SetupTools, run: SetupRun) -> bool:
    """A private incident made public: the private channel's members are invited to the new channel,
    the private channel gets a pointer (once: found by its mark when resumed) and is archived, and
    then the move is done. A step that fails leaves it to the sweep, like any other."""
    incident, slack = run.incident, tools.slack
    old, new = incident.moved_from, incident.channel_id
    assert old is not None and new is not None
    try:
        members = await slack.channel_members(old)
    except Exception as exc:
        run.failed("move: members", exc)
        return False
    people = sorted(members - {slack.bot_user_id or ""})
    if people and not await run.step("move: invite", slack.invite(new, people)):
        return False
    text, body = tools.messages.moved_pointer(incident, new)
    found = None
    if run.resumed and slack.bot_user_id:
        marker = tools.messages.moved_marker(incident.id)
        found = await _quietly(slack.find_own_message(old, marker, author=slack.bot_user_id))
    if found is None and not await run.step("move: pointer", slack.post(old, text, body)):
        return False
    if not await run.step("move: archive", slack.archive(old)):
        return False
    async with tools.uow() as uow:
        await uow.incidents.update(incident.id, moved_from=None)
        await uow.commit()
    log.info("%s: moved out of its private channel", incident.reference)
    return True


async def page(tools: SetupTools, run: SetupRun) -> bool:
    """The service's on-call is paged when the policy pages on declare (once: a resumed set-up finds the
    page it started before)."""
    incident = run.incident
    if escalation := declare_paging(incident.incident_type, incident.severity, tools.policy):
        return await page_type(tools, run, escalation)  # the incident type's policy, instead of the service's
    if tools.pager is None or not pages_on_declare(incident.service, incident.severity, tools.policy):
        return True
    source = f"service:{incident.service}"
    if run.resumed:
        async with tools.uow(read_only=True) as uow:
            if any(p.source == source for p in await uow.pages.for_incident(incident.id)):
                return True
    if tools.silences is not None:
        now = tools.clock()
        why = await tools.silences.silencing(incident.service, incident.severity, now=now, declared=True)
        if why is not None:  # a maintenance window: the on-call is not paged, and the timeline says why
            note = f"The {incident.service} on-call was not paged: silenced by {why}"
            async with tools.uow() as uow:
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.PAGE, now, None, note))
                await uow.commit()
            log.info("%s: the %s on-call was not paged: silenced by %s", incident.reference, incident.service, why)
            return True
    paging = tools.pager.page_service(
        incident, service=incident.service or "", actor=incident.declared_by, team_id=incident.team_id
    )
    return await run.step("page", paging)


async def confirm(tools: SetupTools, run: SetupRun) -> bool:
    """The declarer is told the incident is declared, where they asked."""
    assert run.reply_to is not None
    confirmation = tools.messages.declared_confirmation(run.incident, created=True)
    return await run.step("confirm", tools.slack.reply(run.reply_to, confirmation))


async def _quietly(call: Awaitable[str | None]) -> str | None:
    """A look-up whose failure only means "not found"."""
    try:
        return await call
    except Exception:
        return None
