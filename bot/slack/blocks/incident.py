"""The incident's messages: header, announcement, topic and purpose, change notices, list, help, timeline
and App Home."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.domain.incidents import Incident, TimelineEntry, format_age
from bot.domain.policy import Policy
from bot.domain.user_refs import token_name
from bot.slack.blocks.incident_types import header_blocks as type_header_blocks
from bot.slack.blocks.incident_types import home_label
from bot.slack.blocks.primitives import (
    CONTROLS_BLOCK,
    MAX_BLOCKS_MESSAGE,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_OPTION_TEXT,
    MAX_SECTION_TEXT,
    MAX_TOPIC,
    Blocks,
    _option,
    _plain,
    _text,
    button,
    channel_link,
    context,
    incident_title_line,
    section,
    slack_date,
)
from bot.slack.ids import SLASH_COMMAND, Action
from bot.slack.mrkdwn import code, escape, link, mention, trim


def header_message(incident: Incident, policy: Policy, *, now: datetime) -> tuple[str, Blocks]:
    """The incident channel's header: what, how bad, who leads, and the controls."""
    severity = policy.severity_named(incident.severity)
    severity_text = f"*{incident.severity}*" + (f" — {escape(severity.description)}" if severity else "")
    fields = [
        f"*Severity*\n{severity_text}",
        f"*Status*\n{incident.status.label}",
        f"*Incident Commander*\n{mention(incident.commander)}",
        f"*Communications Lead*\n{mention(incident.roles.get('comms_lead'))}",
        f"*Declared*\n{slack_date(incident.declared_at)}",
        f"*Duration*\n{format_age(incident.duration(now))}" + (" (resolved)" if incident.resolved_at else " so far"),
        f"*Last update*\n{slack_date(incident.last_update_at) if incident.last_update_at else '_none yet_'}",
        f"*Next update due*\n{_next_update(incident, now)}",
    ]
    if incident.acknowledged_by:
        fields.append(f"*Acknowledged*\n{mention(incident.acknowledged_by)}")
    if incident.detected_via:
        fields.append(f"*Detected by*\n{incident.detected_via.label}")
    blocks: Blocks = [
        {"type": "header", "text": _plain(f"🚨 {incident.reference}: {incident.title}", MAX_HEADER_TEXT)},
        {"type": "section", "fields": [_text(trim(f, MAX_FIELD_TEXT)) for f in fields[:10]]},
        *type_header_blocks(incident, policy),  # its type, the type's fields, the call
    ]
    if incident.description:
        blocks.append(section(f"*Impact*\n{escape(incident.description)}"))
    if incident.resolution_summary:
        blocks.append(section(f"*Resolution*\n{escape(incident.resolution_summary)}"))
    value = str(incident.id)
    blocks.append(
        {
            "type": "actions",
            "block_id": f"{CONTROLS_BLOCK}:{incident.id}",
            "elements": [
                button("Acknowledge", Action.ACKNOWLEDGE, value, style="primary"),
                {
                    "type": "static_select",
                    "action_id": Action.SET_SEVERITY,
                    "placeholder": _plain("Severity", MAX_OPTION_TEXT),
                    "options": [_option(s.name, s.name) for s in policy.severities[:100]],
                    **({"initial_option": _option(severity.name, severity.name)} if severity is not None else {}),
                },
                {
                    "type": "users_select",
                    "action_id": Action.ASSIGN_IC,
                    "placeholder": _plain("Assign IC", 75),
                },
                {
                    "type": "users_select",
                    "action_id": Action.ASSIGN_COMMS,
                    "placeholder": _plain("Assign comms lead", 75),
                },
                button("Post update", Action.POST_UPDATE, value),
                button("Resolve", Action.RESOLVE, value, style="danger"),
            ],
        }
    )
    way = "through the API" if token_name(incident.declared_by) else f"with `{SLASH_COMMAND}`"
    blocks.append(context(f"Declared by {mention(incident.declared_by)} {way}"))
    text = f"{incident.reference} ({incident.severity}, {incident.status.label}): {escape(incident.title)}"
    return text, blocks


def _next_update(incident: Incident, now: datetime) -> str:
    if incident.next_update_due is None:
        return "_no reminders_" if incident.status.is_open else "—"
    overdue = " — *overdue*" if incident.next_update_due < now else ""
    return slack_date(incident.next_update_due) + overdue


def announcement(incident: Incident) -> tuple[str, Blocks]:
    """The broadcast channel's notice of a new incident, linking its channel."""
    line = (
        f":rotating_light: *{incident_title_line(incident)}* — *{incident.severity}* declared by "
        f"{mention(incident.declared_by)}. Join {channel_link(incident.channel_id)} to help."
    )
    # The block_id marks it as this incident's announcement: a set-up resumed after a crash finds it in
    # the channel's history instead of announcing twice.
    blocks: Blocks = [{**section(line), "block_id": announcement_marker(incident.id)}]
    if incident.description:
        blocks.append(section(f">{escape(trim(incident.description, 500))}"))
    return line, blocks


def private_notice(incident: Incident, text: str) -> tuple[str, Blocks]:
    """The broadcast channel's one line for a private incident: the policy's words, never its title."""
    line = f":lock: {escape(text)}"
    return line, [{**section(line), "block_id": announcement_marker(incident.id, private=True)}]


def moved_pointer(incident: Incident, new_channel: str) -> tuple[str, Blocks]:
    """The private channel's last message when its incident is made public."""
    line = f":unlock: {incident.reference} is now public. It continues in {channel_link(new_channel)}."
    return line, [{**section(line), "block_id": moved_marker(incident.id)}]


def moved_marker(incident_id: int) -> str:
    """The block_id of a made-public incident's pointer in its old private channel."""
    return f"moved:{incident_id}"


def announcement_marker(incident_id: int, *, private: bool = False) -> str:
    """The block_id an incident's announcement (or a private incident's notice) carries."""
    return f"announce:{incident_id}" + (":private" if private else "")


def declared_confirmation(incident: Incident, *, created: bool) -> str:
    """The declarer's ephemeral confirmation."""
    if not created:
        return (
            f"{incident.reference} was already declared from this request: "
            f"{channel_link(incident.channel_id, '(its channel is being set up)')}."
        )
    return (
        f":white_check_mark: Declared *{incident_title_line(incident)}* ({incident.severity}). "
        f"You're the Incident Commander in {channel_link(incident.channel_id)}."
    )


def topic(incident: Incident) -> str:
    """The channel topic: severity, status and IC (Slack allows 250 characters)."""
    ic = f"IC {mention(incident.commander)}" if incident.commander else "IC unassigned"
    return trim(f"{incident.severity} · {incident.status.label} · {ic}", MAX_TOPIC, "…")


def purpose(incident: Incident) -> str:
    """The channel purpose: what the incident is."""
    return trim(f"{incident.reference}: {escape(incident.title)}", MAX_TOPIC, "…")


LIST_SHOWN = MAX_BLOCKS_MESSAGE - 2  # incidents a `list` reply shows (a header and a "more" line besides)


def open_incidents(incidents: Sequence[Incident], *, now: datetime, total: int | None = None) -> tuple[str, Blocks]:
    """The `list` reply: open incidents, most severe first (`total`: how many are open, if more than
    `incidents` holds)."""
    total = max(total or 0, len(incidents))
    if not incidents:
        return "No open incidents. :sunny:", [section("No open incidents. :sunny:")]
    lines = [
        f"*{incident_title_line(i)}* · {i.severity} · {i.status.label} · "
        f"{channel_link(i.channel_id)} · IC {mention(i.commander)} · {format_age(i.age(now))} old"
        for i in incidents
    ]
    header = f"*{total} open incident{'s' if total != 1 else ''}*"
    blocks: Blocks = [section(header)]
    shown = lines[:LIST_SHOWN]
    blocks.extend(section(line) for line in shown)
    if total > len(shown):
        blocks.append(context(f"… and {total - len(shown)} more."))
    return f"{header}\n" + "\n".join(shown), blocks


class Subcommand(Protocol):
    """What help shows of a subcommand."""

    @property
    def usage(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def available(self) -> bool: ...


def help_message(subcommands: Sequence[Subcommand]) -> tuple[str, Blocks]:
    """Usage of every subcommand, marking those not yet available."""
    lines = [
        f"{code(f'{SLASH_COMMAND} {s.usage}')} — {escape(s.summary)}"
        + ("" if s.available else " _(not yet available)_")
        for s in subcommands
    ]
    intro = "*Tocsin* runs incidents. Inside an incident channel the incident is implied."
    chunks: list[str] = []  # sections of at most 3,000 characters each (Block Kit's limit)
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= MAX_SECTION_TEXT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:MAX_SECTION_TEXT])
    body = "\n".join(lines)
    return f"{intro}\n{body}", [section(intro), *(section(chunk) for chunk in chunks)]


def not_yet_available(subcommand: str) -> str:
    """The reply for a contract subcommand this version does not do yet."""
    return (
        f":construction: {code(f'{SLASH_COMMAND} {subcommand}')} isn't available in this version yet. "
        f"Try `{SLASH_COMMAND} help`."
    )


def change_line(incident: Incident, line: str) -> tuple[str, Blocks]:
    """A one-line notice (mrkdwn, from the builders below) in the incident channel (role, severity, status)."""
    return line, [section(line)]


def role_assigned(role_name: str, user_id: str, previous: str | None, actor: str) -> str:
    """The channel notice for a role change."""
    was = f" (was {mention(previous)})" if previous else ""
    return f":busts_in_silhouette: {mention(user_id)} is now *{escape(role_name)}*{was}, assigned by {mention(actor)}."


def severity_changed(incident: Incident, before: str, after: str, reason: str, actor: str) -> str:
    """The notice for a severity change (channel and, on upgrades, stakeholders)."""
    arrow = ":arrow_up:" if before != after else ":left_right_arrow:"
    why = f": {escape(trim(reason, 500))}" if reason else ""
    return (
        f"{arrow} *{incident_title_line(incident)}* severity {escape(before)} → *{escape(after)}* "
        f"by {mention(actor)}{why} {channel_link(incident.channel_id)}"
    )


def status_changed(incident: Incident, before: str, actor: str) -> str:
    """The channel notice for a lifecycle move."""
    return f":traffic_light: Status {escape(before)} → *{incident.status.label}*, set by {mention(actor)}."


def status_update(
    incident: Incident, *, known: str, doing: str, next_at: datetime | None, actor: str
) -> tuple[str, Blocks]:
    """A status update as posted in the channel, the broadcast channel and stakeholder channels."""
    head = f":mega: *Update on {incident_title_line(incident)}* · {incident.severity} · {incident.status.label}"
    parts = [f"*What we know:* {escape(known)}"]
    if doing:
        parts.append(f"*What we're doing:* {escape(doing)}")
    parts.append(f"*Next update:* {slack_date(next_at) if next_at else '_when there is news_'}")
    body = trim("\n".join(parts), MAX_SECTION_TEXT)
    footer = f"Posted by {mention(actor)} in {channel_link(incident.channel_id)}"
    return f"{head}\n{body}", [section(head), section(body), context(footer)]


def update_text(*, known: str, doing: str) -> str:
    """An update as the timeline keeps it."""
    return f"What we know: {known}" + (f" — What we're doing: {doing}" if doing else "")


def resolution(incident: Incident, *, actor: str, now: datetime) -> tuple[str, Blocks]:
    """The resolution notice: service restored, what was wrong, what was done, postmortem to follow."""
    head = f":white_check_mark: *{incident_title_line(incident)} is resolved* — service is restored."
    cause = escape(incident.cause) if incident.cause else "_still being established; the postmortem will say._"
    done = escape(incident.resolution_summary) if incident.resolution_summary else "_see the timeline._"
    lines = [f"*What was wrong:* {cause}", f"*What we did:* {done}"]
    if incident.customer_impact:
        lines.append(f"*Customer impact:* {escape(incident.customer_impact)}")
    lines.append(f"*Duration:* {format_age(incident.duration(now))} · *Severity:* {incident.severity}")
    body = trim("\n".join(lines), MAX_SECTION_TEXT)
    footer = f"Resolved by {mention(actor)} in {channel_link(incident.channel_id)}. A postmortem will follow."
    return f"{head}\n{body}", [section(head), section(body), context(footer)]


def reopened(incident: Incident, reason: str, actor: str) -> str:
    """The notice when a resolved incident comes back."""
    why = f": {escape(trim(reason, 500))}" if reason else ""
    return f":rotating_light: *{incident_title_line(incident)}* reopened by {mention(actor)}{why}"


TIMELINE_PAGE = 25


def timeline_pages(total: int) -> int:
    """How many pages a timeline of `total` entries takes."""
    return max(1, -(-total // TIMELINE_PAGE))


def timeline_page(
    incident: Incident, shown: Sequence[TimelineEntry], page: int, *, total: int, multi_day: bool
) -> tuple[str, Blocks]:
    """Page `page` of the timeline (ephemeral): `shown` are its entries, `total` the timeline's length;
    dates are shown when the incident spans days (`multi_day`)."""
    pages = timeline_pages(total)
    fmt = "{date_short} {time}" if multi_day else "{time}"
    head = f"*Timeline of {incident_title_line(incident)}* · page {page} of {pages} · {total} entries"
    blocks: Blocks = [section(head)]
    for entry in shown:
        who = f" · {mention(entry.actor)}" if entry.actor else ""
        view = f" · {link(entry.permalink, 'view')}" if entry.permalink else ""
        kind = f"*{entry.kind.label}*" + (" _(reply in a thread)_" if entry.in_thread else "")
        line = f"{slack_date(entry.occurred_at, fmt)} {kind}{who} — {escape(entry.text)}{view}"
        blocks.append(section(trim(line, MAX_SECTION_TEXT)))
    if page < pages:
        blocks.append(context(f"More: `{SLASH_COMMAND} timeline {incident.reference} {page + 1}`"))
    text = head + "\n" + "\n".join(b["text"]["text"] for b in blocks[1:] if b["type"] == "section")
    return trim(text, MAX_MESSAGE_TEXT), blocks


HOME_SHOWN = 96  # incidents the App Home tab can show (100 blocks, with a header per severity)


def home_view(
    incidents: Sequence[Incident], policy: Policy, *, now: datetime, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """The App Home tab: open incidents by severity, with channel, age, IC and status (`counts`: how
    many are open per severity, if more than `incidents` holds)."""
    blocks: Blocks = [{"type": "header", "text": _plain("Open incidents", MAX_HEADER_TEXT)}]
    if not incidents:
        blocks.append(section("No open incidents. :sunny:"))
    for severity in policy.severity_names:
        group = [i for i in incidents if i.severity == severity]
        count = max(len(group), (counts or {}).get(severity, 0))
        if not count:
            continue
        blocks.append(section(f"*{severity}* · {count} open"))
        for incident in group:
            if len(blocks) >= 98:
                break
            blocks.append(
                section(
                    f"*{incident_title_line(incident)}*{home_label(incident)} · {channel_link(incident.channel_id)}\n"
                    f"{incident.status.label} · IC {mention(incident.commander)} · {format_age(incident.age(now))} old"
                )
            )
    blocks.append(context(f"Updated {slack_date(now)} · `{SLASH_COMMAND} declare` to start one"))
    return {"type": "home", "blocks": blocks[:100]}
