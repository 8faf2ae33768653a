"""Block Kit builders. Pure: every Slack limit, every escape and every trim lives here, once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.command_parser import SUBCOMMANDS
from bot.ids import SLASH_COMMAND, Action, Block, View
from bot.incidents import DetectedVia, Incident, format_age
from bot.mrkdwn import escape, trim
from bot.policy import Policy

Blocks = list[dict[str, Any]]

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


def mention(user_id: str | None) -> str:
    """A user mention, or a dash when nobody holds the role."""
    return f"<@{user_id}>" if user_id else "_unassigned_"


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
        f"*Declared*\n{slack_date(incident.declared_at)} ({format_age(incident.age(now))} ago)",
    ]
    if incident.detected_via:
        fields.append(f"*Detected by*\n{incident.detected_via.label}")
    blocks: Blocks = [
        {"type": "header", "text": _plain(f"🚨 {incident.reference}: {incident.title}", MAX_HEADER_TEXT)},
        {"type": "section", "fields": [_text(trim(f, MAX_FIELD_TEXT)) for f in fields[:10]]},
    ]
    if incident.description:
        blocks.append(section(f"*Impact*\n{escape(incident.description)}"))
    value = str(incident.id)
    blocks.append(
        {
            "type": "actions",
            "block_id": "incident_controls",
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


def announcement(incident: Incident) -> tuple[str, Blocks]:
    """The broadcast channel's notice of a new incident, linking its channel."""
    line = (
        f":rotating_light: *{incident_title_line(incident)}* — *{incident.severity}* declared by "
        f"{mention(incident.declared_by)}. Join {channel_link(incident.channel_id)} to help."
    )
    blocks: Blocks = [section(line)]
    if incident.description:
        blocks.append(section(f">{escape(trim(incident.description, 500))}"))
    return line, blocks


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
    return trim(f"{incident.reference}: {incident.title}", MAX_TOPIC, "…")


def open_incidents(incidents: Sequence[Incident], *, now: datetime) -> tuple[str, Blocks]:
    """The `list` reply: open incidents, most severe first."""
    if not incidents:
        return "No open incidents. :sunny:", [section("No open incidents. :sunny:")]
    lines = [
        f"*{incident_title_line(i)}* · {i.severity} · {i.status.label} · "
        f"{channel_link(i.channel_id)} · IC {mention(i.commander)} · {format_age(i.age(now))} old"
        for i in incidents
    ]
    header = f"*{len(incidents)} open incident{'s' if len(incidents) != 1 else ''}*"
    blocks: Blocks = [section(header)]
    shown = MAX_BLOCKS_MESSAGE - 2
    blocks.extend(section(line) for line in lines[:shown])
    if len(lines) > shown:
        blocks.append(context(f"… and {len(lines) - shown} more."))
    return f"{header}\n" + "\n".join(lines[:shown]), blocks


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
