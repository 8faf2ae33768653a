"""Reopening an incident whose channel was archived: Slack does not let a bot unarchive, so the incident
continues in a new channel, `inc-42-<slug>-2` (or -3…), with its role holders invited, a first message
that links the archived channel and sums up its timeline, and the header posted and pinned. The incident
moves to the new channel (its channel, header and topic), and both channels are recorded, linked."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.domain.channel_names import channel_name, private_channel_name
from bot.domain.errors import slack_error
from bot.domain.events import incident_event
from bot.domain.events_beyond import IncidentChannelContinued
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.user_refs import token_name
from bot.runtime.logs import event
from bot.usecases.changes import committed
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)

SUMMARY_ENTRIES = 12  # the old channel's last timeline entries the first message sums up


async def continue_if_archived(
    incident: Incident, *, uow: UnitOfWorkFactory, slack: Slack, messages: Messages, policy: Policy, clock: Clock
) -> Incident:
    """The incident in a continuation channel when its channel was archived (else as it is). A channel Slack
    will not make now leaves the incident where it was, logged: the reopen itself stands."""
    old = incident.channel_id
    if old is None:
        return incident
    async with uow(read_only=True) as work:
        record = await work.channels.channel(old)
        entries = await work.incidents.timeline(incident.id) if record is not None and record.archived_at else []
    if record is None or record.archived_at is None:
        return incident
    prefix = policy.channel_prefix

    def name_for(attempt: int) -> str:  # the first continuation is -2
        if incident.private:
            suffix = policy.private_incidents.channel_suffix
            return private_channel_name(prefix, incident.number, suffix, attempt=attempt + 1)
        return channel_name(prefix, incident.number, incident.title, attempt=attempt + 1)

    try:
        created = await slack.create_channel(name_for, private=incident.private)
    except Exception as exc:
        log.warning(
            "%s: no continuation channel (%s); it stays in its archived channel", incident.reference, slack_error(exc)
        )
        return incident
    moved = replace(incident, channel_id=created.id, channel_name=created.name, header_ts=None, channel_topic=None)
    people = sorted({u for u in incident.roles.values() if token_name(u) is None and u != slack.bot_user_id})
    header_ts = await _set_up(
        moved, old, entries[-SUMMARY_ENTRIES:], people, slack=slack, messages=messages, policy=policy, clock=clock
    )
    now = clock()
    async with uow() as work:
        await work.incidents.update(
            incident.id, channel_id=created.id, channel_name=created.name, header_ts=header_ts, channel_topic=None
        )
        await work.channels.remember(incident.id, created.id, created.name)
        await work.channels.change(old, continued_in=created.id)
        note = f"Channel #{created.name} created (continues #{record.name}, archived)"
        await work.incidents.record(incident.id, TimelineEntry(TimelineKind.CHANNEL_CREATED, now, None, note))
        continued = IncidentChannelContinued(channel_id=created.id, previous_channel_id=old)
        await work.events.append(incident_event(continued, incident, actor=None, at=now))
        result = await committed(work, incident.id)
        await work.commit()
    event(log, "%s: continues in #%s (its channel was archived)", incident.reference, created.name,
          incident=incident.reference, team=incident.team_id)  # fmt: skip
    return result


async def _set_up(
    incident: Incident,
    old: str,
    entries: list[TimelineEntry],
    people: list[str],
    *,
    slack: Slack,
    messages: Messages,
    policy: Policy,
    clock: Clock,
) -> str | None:
    """Invite, purpose, the first message and the pinned header; the header's ts (None if Slack refused)."""
    channel = incident.channel_id
    assert channel is not None
    steps = [
        ("invite", slack.invite(channel, people) if people else None),
        ("purpose", slack.set_purpose(channel, messages.purpose(incident))),
    ]
    for name, call in steps:
        if call is None:
            continue
        try:
            await call
        except Exception as exc:
            log.warning("%s: continuation %s failed: %s", incident.reference, name, slack_error(exc))
    lines = [
        f":file_cabinet: {incident.reference} was reopened. Its channel {messages.channel_link(old)} is archived "
        "(Slack keeps it readable), so the incident continues here."
    ]
    if entries:
        lines.append("*Where it got to:*")
        lines += [
            f"• {messages.slack_date(e.occurred_at)} *{e.kind.label}* — {messages.escape(e.text[:200])}"
            for e in entries
        ]
    text = "\n".join(lines)[:2900]
    header_ts = None
    try:
        await slack.post(channel, text, [messages.section(text)])
        header_text, body = messages.header_message(incident, policy, now=clock())
        header_ts = await slack.post(channel, header_text, body)
        await slack.pin(channel, header_ts)
    except Exception as exc:
        log.warning("%s: continuation header failed: %s", incident.reference, slack_error(exc))
    return header_ts
