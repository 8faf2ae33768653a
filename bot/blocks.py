"""Block Kit builders. Pure: every Slack limit, every escape and every trim lives here, once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.command_parser import SUBCOMMANDS
from bot.errors import UserError
from bot.ids import SLASH_COMMAND, Action, Block, View
from bot.incidents import DetectedVia, Incident, TimelineEntry, format_age
from bot.mrkdwn import escape, mention, trim
from bot.policy import Policy
from bot.runbooks import Runbook, Step

Blocks = list[dict[str, Any]]
CONTROLS_BLOCK = "incident_controls"

# Slack's documented limits (slack-sdk's model validators agree).
MAX_BLOCKS_MESSAGE = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40_000
MAX_TOPIC = 250


def channel_link(channel_id: str | None, fallback: str = "(channel pending)") -> str:
    """A channel link Slack renders with the channel's current name."""
    return f"<#{channel_id}>" if channel_id else fallback


def slack_date(when: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{fmt}|{fallback}>"


def _text(text: str, *, mrkdwn: bool = True) -> dict[str, Any]:
    return {"type": "mrkdwn" if mrkdwn else "plain_text", "text": text}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": trim(text, limit, "…"), "emoji": True}


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section, trimmed to Slack's 3000 characters."""
    return {"type": "section", "text": _text(trim(text, MAX_SECTION_TEXT))}


def context(*parts: str) -> dict[str, Any]:
    """A context block (at most 10 elements)."""
    return {"type": "context", "elements": [_text(trim(p, MAX_SECTION_TEXT)) for p in parts[:10]]}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button within Slack's text and value limits."""
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": value[:150]}


def incident_title_line(incident: Incident) -> str:
    """`INC-7: Checkout errors`, escaped for mrkdwn."""
    return f"{incident.reference}: {escape(incident.title)}"


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
    blocks.append(context(f"Declared by {mention(incident.declared_by)} with `{SLASH_COMMAND}`"))
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


def announcement_marker(incident_id: int) -> str:
    """The block_id an incident's announcement carries."""
    return f"announce:{incident_id}"


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
    ic = f"IC <@{incident.commander}>" if incident.commander else "IC unassigned"
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


def help_message() -> tuple[str, Blocks]:
    """Usage of every subcommand, marking those not yet available."""
    lines = [
        f"`{SLASH_COMMAND} {s.usage}` — {s.summary}" + ("" if s.available else " _(not yet available)_")
        for s in SUBCOMMANDS
    ]
    body = "\n".join(lines)
    intro = "*Tocsin* runs incidents. Inside an incident channel the incident is implied."
    return f"{intro}\n{body}", [section(intro), section(body)]


def not_yet_available(subcommand: str) -> str:
    """The reply for a contract subcommand this version does not do yet."""
    return (
        f":construction: `{SLASH_COMMAND} {subcommand}` isn't available in this version yet. "
        f"Try `{SLASH_COMMAND} help`."
    )


def declare_modal(policy: Policy, *, origin_channel: str, severity: str | None = None) -> dict[str, Any]:
    """The declare form: title, severity, impact, how it was detected, when it started."""
    initial = policy.severity_named(severity or policy.default_severity) or policy.severities[0]
    metadata = json.dumps({"channel": origin_channel})
    return {
        "type": "modal",
        "callback_id": View.DECLARE,
        "title": _plain("Declare an incident", MAX_MODAL_TITLE),
        "submit": _plain("Declare", MAX_MODAL_TITLE),
        "close": _plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": metadata[:MAX_PRIVATE_METADATA],
        "blocks": [
            {
                "type": "input",
                "block_id": Block.TITLE,
                "label": _plain("Title", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 120,
                    "placeholder": _plain("Checkout errors for EU customers", 150),
                },
            },
            {
                "type": "input",
                "block_id": Block.SEVERITY,
                "label": _plain("Severity", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [_option(f"{s.name} — {s.description}", s.name) for s in policy.severities],
                    "initial_option": _option(f"{initial.name} — {initial.description}", initial.name),
                },
            },
            {
                "type": "input",
                "block_id": Block.DESCRIPTION,
                "optional": True,
                "label": _plain("Impact / description", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
            {
                "type": "input",
                "block_id": Block.DETECTED_VIA,
                "optional": True,
                "label": _plain("How was it detected?", 2000),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "value",
                    "options": [_option(d.label, d.value) for d in DetectedVia],
                },
            },
            {
                "type": "input",
                "block_id": Block.STARTED_AT,
                "optional": True,
                "label": _plain("When did it start?", 2000),
                "element": {"type": "datetimepicker", "action_id": "value"},
            },
        ],
    }


def change_line(incident: Incident, line: str) -> tuple[str, Blocks]:
    """A one-line notice in the incident channel (role, severity, status changes)."""
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
        f"{arrow} *{incident_title_line(incident)}* severity {before} → *{after}* "
        f"by {mention(actor)}{why} {channel_link(incident.channel_id)}"
    )


def status_changed(incident: Incident, before: str, actor: str) -> str:
    """The channel notice for a lifecycle move."""
    return f":traffic_light: Status {before} → *{incident.status.label}*, set by {mention(actor)}."


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
        link = f" · <{entry.permalink}|view>" if entry.permalink else ""
        line = f"{slack_date(entry.occurred_at, fmt)} *{entry.kind.label}*{who} — {escape(entry.text)}{link}"
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
                    f"*{incident_title_line(incident)}* · {channel_link(incident.channel_id)}\n"
                    f"{incident.status.label} · IC {mention(incident.commander)} · {format_age(incident.age(now))} old"
                )
            )
    blocks.append(context(f"Updated {slack_date(now)} · `{SLASH_COMMAND} declare` to start one"))
    return {"type": "home", "blocks": blocks[:100]}


def incident_form(incident: Incident, callback_id: str, *, title: str, submit: str, inputs: Blocks) -> dict[str, Any]:
    """A modal about one incident: its title line first, its id in private_metadata (see `form_metadata`)."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title, MAX_MODAL_TITLE),
        "submit": _plain(submit, MAX_MODAL_TITLE),
        "close": _plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"incident": incident.id}),
        "blocks": [
            context(f"*{incident_title_line(incident)}* · {incident.severity} · {incident.status.label}"),
            *inputs,
        ],
    }


def form_metadata(view: dict[str, Any], key: str) -> Any:
    """A value a form carries in its private_metadata (None when missing or unreadable)."""
    try:
        return json.loads(view.get("private_metadata") or "{}").get(key)
    except (ValueError, AttributeError):
        return None


def form_incident_id(view: dict[str, Any]) -> int:
    """The incident a form is about, from its private_metadata; UserError when it names none."""
    incident_id = form_metadata(view, "incident")
    if isinstance(incident_id, bool) or not isinstance(incident_id, int) or not 0 < incident_id < 2**31:
        raise UserError("That form isn't attached to an incident any more.")
    return incident_id


def update_modal(incident: Incident, *, next_at: datetime | None) -> dict[str, Any]:
    """The Post update form: what we know, what we are doing, next update at (pre-filled from the cadence)."""
    next_element: dict[str, Any] = {"type": "datetimepicker", "action_id": "value"}
    if next_at is not None:
        next_element["initial_date_time"] = int(next_at.timestamp())
    inputs = [
        text_input(Block.KNOWN, "What we know", multiline=True),
        text_input(Block.DOING, "What we are doing", multiline=True, optional=True),
        form_input(Block.NEXT_UPDATE, "Next update at", next_element, optional=True),
    ]
    return incident_form(incident, View.POST_UPDATE, title="Post an update", submit="Post", inputs=inputs)


def resolve_modal(incident: Incident) -> dict[str, Any]:
    """The Resolve form: summary, customer impact, cause as far as known."""
    inputs = [
        text_input(Block.SUMMARY, "What was done to restore service", multiline=True),
        text_input(Block.IMPACT, "Customer impact", multiline=True, optional=True),
        text_input(Block.CAUSE, "Cause, as far as known", multiline=True, optional=True),
    ]
    return incident_form(incident, View.RESOLVE, title="Resolve incident", submit="Resolve", inputs=inputs)


def form_input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """An input block of a form around any element (its action_id is `value`)."""
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label, 2000),
        "element": element,
    }


def text_input(block_id: str, label: str, *, multiline: bool = False, optional: bool = False) -> dict[str, Any]:
    """A text input of a form, within Slack's 3000-character limit."""
    element = {"type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": 2900}
    return form_input(block_id, label, element, optional=optional)


PAGE_BLOCK = "page"


def _post_update_button(incident: Incident) -> dict[str, Any]:
    """The Post update button, wired like the header's (its block_id names the incident)."""
    return {
        "type": "actions",
        "block_id": f"{CONTROLS_BLOCK}:{incident.id}",
        "elements": [button("Post update", Action.POST_UPDATE, str(incident.id), style="primary")],
    }


def reminder_nag(incident: Incident, *, target: str | None, due_at: datetime) -> tuple[str, Blocks]:
    """The in-channel nag when an update is overdue, with the Post update button."""
    line = (
        f":alarm_clock: {mention(target)} an update on *{incident_title_line(incident)}* was due "
        f"{slack_date(due_at, '{time}')}. Post one so stakeholders know where things stand."
    )
    return line, [section(line), _post_update_button(incident)]


def reminder_dm(incident: Incident, *, due_at: datetime) -> tuple[str, Blocks]:
    """The DM to the Incident Commander when a second reminder interval passes with no update."""
    line = (
        f":alarm_clock: *{incident_title_line(incident)}* has had no status update since it was due "
        f"{slack_date(due_at)}; the channel was reminded. {channel_link(incident.channel_id)}"
    )
    return line, [section(line), _post_update_button(incident)]


def page_dm(
    *, page_id: int, title: str, severity: str, channel_id: str | None, tier: int, total: int
) -> tuple[str, Blocks]:
    """A page as the person paged sees it, with Acknowledge and Decline."""
    where = f" · {channel_link(channel_id)}" if channel_id else ""
    line = f":pager: *You're being paged:* {escape(title)} · *{severity}*{where}"
    return line, [
        section(line),
        context(f"Escalation step {tier} of {total}. Acknowledge to stop it; Decline to pass it on now."),
        {
            "type": "actions",
            "block_id": f"{PAGE_BLOCK}:{page_id}",
            "elements": [
                button("Acknowledge", Action.PAGE_ACKNOWLEDGE, str(page_id), style="primary"),
                button("Decline", Action.PAGE_DECLINE, str(page_id)),
            ],
        },
    ]


def page_dm_settled(
    *,
    title: str,
    severity: str,
    channel_id: str | None,
    outcome: str,
    reopens: tuple[int, datetime] | None = None,
) -> tuple[str, Blocks]:
    """A page DM after the page is acknowledged or given up: the outcome instead of the buttons. With
    an ack timeout running (`reopens`: the page and when), a button to acknowledge again and reset it."""
    where = f" · {channel_link(channel_id)}" if channel_id else ""
    line = f":pager: {escape(title)} · *{severity}*{where}\n{outcome}"
    if reopens is None:
        return line, [section(line)]
    page_id, at = reopens
    return line, [
        section(line),
        context(f"Unless it is resolved, the page escalates again {slack_date(at)}. Still on it? Acknowledge again."),
        {
            "type": "actions",
            "block_id": f"{PAGE_BLOCK}:{page_id}",
            "elements": [button("Acknowledge again", Action.PAGE_ACKNOWLEDGE, str(page_id))],
        },
    ]


def paging_notice(users: Sequence[str], *, tier: int, total: int, plan: str) -> str:
    """The incident channel's note of who is being paged."""
    people = ", ".join(mention(u) for u in users)
    return f":pager: Paging {people} (step {tier} of {total}, {escape(plan)})."


def ack_timed_out(title: str, acknowledged_by: str | None, *, after: str) -> str:
    """An acknowledged page was not resolved in time: it escalates again from the first tier."""
    who = f" by {mention(acknowledged_by)}" if acknowledged_by else ""
    return (
        f":alarm_clock: The acknowledgement{who} of the page for {escape(title)} ran out after {after} and it is "
        "not resolved, so the page is escalating again from the first tier."
    )


def page_exhausted(title: str, channel_id: str | None, *, steps: int) -> str:
    """Everyone was paged and nobody acknowledged."""
    where = f" in {channel_link(channel_id)}" if channel_id else ""
    return (
        f":rotating_light: *Nobody acknowledged the page for {escape(title)}*{where} after {steps} escalation "
        "steps. Someone please take it."
    )


def oncall_lines(rows: Sequence[tuple[str, str | None, datetime | None, str | None]]) -> tuple[str, Blocks]:
    """`/incident oncall`: each schedule with who is on call now and the next handoff."""
    if not rows:
        text = "No on-call schedules are configured (see `schedules` in tocsin.yml)."
        return text, [section(text)]

    def person(ref: str | None) -> str:
        if ref is None:
            return "*nobody* :warning:"
        return escape(ref) if "@" in ref else mention(ref)

    lines = []
    for name, now_user, handoff_at, next_user in rows:
        who = person(now_user)
        after = f" · next handoff {slack_date(handoff_at)} → {person(next_user)}" if handoff_at else ""
        lines.append(f"*{escape(name)}*: {who}{after}")
    text = "\n".join(lines)
    return text, [section(trim(text, MAX_SECTION_TEXT))]


RUNBOOK_BLOCK = "rb"
RUNBOOK_STEPS = "runbook_steps"
RUNBOOK_POST = "runbook_post"
CHECKBOX_OPTIONS = 10


def _step_option(runbook: Runbook, step: Step) -> dict[str, Any]:
    text = escape(step.text)
    option: dict[str, Any] = {"text": {"type": "mrkdwn", "text": trim(text, MAX_OPTION_TEXT, "…")}, "value": step.id}
    if len(text) > MAX_OPTION_TEXT:
        option["description"] = _plain(step.text[MAX_OPTION_TEXT - 1 :], MAX_OPTION_TEXT)
    return option


def runbook_messages(incident_id: int, runbook: Runbook, ticked: set[str]) -> list[tuple[str, Blocks]]:
    """A runbook as checklist messages: headings as sections, steps as checkbox groups of at most 10,
    split so no message has more than 50 blocks. Each group's block_id names incident, runbook, group."""
    title = f":clipboard: *Runbook: {escape(runbook.meta.title)}* · tick steps as you go; ticks go on the timeline"
    units: list[Blocks] = []  # a heading with its step groups stays together when it fits
    group = 0
    for part in runbook.sections:
        unit: Blocks = [section(f"*{escape(part.heading)}*")] if part.heading else []
        for start in range(0, len(part.steps), CHECKBOX_OPTIONS):
            chunk = part.steps[start : start + CHECKBOX_OPTIONS]
            options = [_step_option(runbook, step) for step in chunk]
            element: dict[str, Any] = {"type": "checkboxes", "action_id": RUNBOOK_STEPS, "options": options}
            chosen = [o for o, step in zip(options, chunk, strict=True) if step.id in ticked]
            if chosen:
                element["initial_options"] = chosen
            group += 1
            unit.append(
                {
                    "type": "actions",
                    "block_id": f"{RUNBOOK_BLOCK}:{incident_id}:{runbook.name}:{group}",
                    "elements": [element],
                }
            )
        units.append(unit)
    messages: list[Blocks] = [[section(title)]]
    for unit in units:
        if len(messages[-1]) + len(unit) > MAX_BLOCKS_MESSAGE:
            messages.append([])
        for block in unit:
            if len(messages[-1]) >= MAX_BLOCKS_MESSAGE:
                messages.append([])
            messages[-1].append(block)
    done = len(ticked)
    total = len(runbook.steps)
    text = f"Runbook: {escape(runbook.meta.title)} ({done} of {total} steps done)"
    return [(text if n == 0 else f"{text} (part {n + 1})", blocks) for n, blocks in enumerate(messages)]


def runbook_list(incident: Incident, runbooks: Sequence[Runbook], posted: set[str]) -> tuple[str, Blocks]:
    """`/incident runbook`: the matching runbooks, each with a button to post it."""
    if not runbooks:
        text = f"No runbook matches {incident.reference}. `{SLASH_COMMAND} runbook <name>` posts any runbook."
        return text, [section(text)]
    blocks: Blocks = [section(f"*Runbooks for {incident_title_line(incident)}*")]
    for runbook in runbooks[:45]:
        state = "posted" if runbook.name in posted else f"{len(runbook.steps)} steps"
        blocks.append(
            {
                "type": "section",
                "block_id": f"rbpost:{incident.id}:{runbook.name}"[:255],
                "text": _text(f"*{escape(runbook.meta.title)}* · `{runbook.name}` · {state}"),
                "accessory": button("Post", RUNBOOK_POST, runbook.name),
            }
        )
    return f"{len(runbooks)} runbooks match {incident.reference}", blocks
