"""Modals: the declare form, the forms about one incident, and reading their metadata back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.errors import UserError
from bot.domain.incidents import DetectedVia, Incident
from bot.domain.policy import Policy
from bot.domain.source_message import MAX_KEPT_TEXT, SourceMessage, suggested_title
from bot.slack.blocks.incident_types import resolve_field_inputs
from bot.slack.blocks.primitives import (
    MAX_MODAL_TITLE,
    MAX_PRIVATE_METADATA,
    Blocks,
    _option,
    _plain,
    context,
    form_input,
    incident_title_line,
    text_input,
)
from bot.slack.ids import Block, View
from bot.slack.mrkdwn import escape, trim

MAX_SELECT_OPTIONS = 100  # a static_select's options (Block Kit)
# The status page's inputs in the update and resolve forms (block_ids; their action_id is `value`).
PUBLISH_BLOCK = "publish"
PUBLIC_TITLE_BLOCK = "public_title"
PUBLIC_TEXT_BLOCK = "public_text"
PUBLISH_OPTION = "publish"


def declare_modal(
    policy: Policy,
    *,
    origin_channel: str,
    severity: str | None = None,
    private: bool = False,
    message: SourceMessage | None = None,
) -> dict[str, Any]:
    """The declare form: title, severity, impact, how it was detected, when it started, private or not.
    From a message (the shortcut): its first line as the title and its text as the description."""
    private_option = _option("Private: a private channel; nothing about it is announced or listed", "private")
    initial = policy.severity_named(severity or policy.default_severity) or policy.severities[0]
    metadata = fit_metadata({"channel": origin_channel}, message)
    title = {"initial_value": suggested_title(message.text)} if message and suggested_title(message.text) else {}
    description = {"initial_value": message.text[:MAX_KEPT_TEXT]} if message and message.text else {}
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
                    **title,
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
                    **description,
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
            {
                "type": "input",
                "block_id": Block.PRIVATE,
                "optional": True,
                "label": _plain("Visibility", 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [private_option],
                    **({"initial_options": [private_option]} if private else {}),
                },
            },
        ],
    }


def fit_metadata(base: dict[str, Any], message: SourceMessage | None) -> str:
    """`base` (with the message, its text cut to fit) as private_metadata within Slack's 3000 characters."""
    if message is None:
        return json.dumps(base)[:MAX_PRIVATE_METADATA]
    text = message.text[:MAX_KEPT_TEXT]
    while True:
        encoded = json.dumps({**base, "message": {**message.as_metadata(), "text": text}})
        if len(encoded) <= MAX_PRIVATE_METADATA or not text:  # no text left to cut: the rest cannot fit
            return encoded[:MAX_PRIVATE_METADATA]
        text = text[: max(0, len(text) - (len(encoded) - MAX_PRIVATE_METADATA) - 1)]


def add_to_timeline_modal(incidents: list[Incident], message: SourceMessage) -> dict[str, Any]:
    """Which open incident a message should join (the shortcut used outside an incident channel)."""
    options = [_option(f"{i.reference}: {i.title}", str(i.id)) for i in incidents[:MAX_SELECT_OPTIONS]]
    quoted = trim(message.text, 200) or "(a message without text)"
    return {
        "type": "modal",
        "callback_id": View.ADD_TO_TIMELINE,
        "title": _plain("Add to a timeline", MAX_MODAL_TITLE),
        "submit": _plain("Add", MAX_MODAL_TITLE),
        "close": _plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": fit_metadata({}, message),
        "blocks": [
            context(f">{escape(quoted)}"),
            {
                "type": "input",
                "block_id": Block.INCIDENT,
                "label": _plain("Incident", 2000),
                "element": {"type": "static_select", "action_id": "value", "options": options},
            },
        ],
    }


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
    return int(incident_id)


def update_modal(incident: Incident, *, next_at: datetime | None) -> dict[str, Any]:
    """The Post update form: what we know, what we are doing, next update at (pre-filled from the cadence)."""
    next_element: dict[str, Any] = {"type": "datetimepicker", "action_id": "value"}
    if next_at is not None:
        next_element["initial_date_time"] = int(next_at.timestamp())
    inputs = [
        text_input(Block.KNOWN, "What we know", multiline=True),
        text_input(Block.DOING, "What we are doing", multiline=True, optional=True),
        form_input(Block.NEXT_UPDATE, "Next update at", next_element, optional=True),
        *([] if incident.private else public_update_inputs()),
    ]
    return incident_form(incident, View.POST_UPDATE, title="Post an update", submit="Post", inputs=inputs)


def public_update_inputs() -> Blocks:
    """The update form's status page part: the choice to post, a public title, and the words customers
    read (never the internal update's). A private incident's form has none of it."""
    choice = _option("Post to status page", PUBLISH_OPTION)
    title = {
        "type": "plain_text_input",
        "action_id": "value",
        "max_length": 120,
        "placeholder": _plain("Checkout errors for some customers (kept from before if empty)", 150),
    }
    return [
        context("*Status page* · customers read only what you write below, and only if you tick the box."),
        form_input(
            PUBLISH_BLOCK,
            "Status page",
            {"type": "checkboxes", "action_id": "value", "options": [choice]},
            optional=True,
        ),
        form_input(PUBLIC_TITLE_BLOCK, "Public title", title, optional=True),
        text_input(PUBLIC_TEXT_BLOCK, "What customers read", multiline=True, optional=True),
    ]


def resolve_modal(incident: Incident, policy: Policy | None = None) -> dict[str, Any]:
    """The Resolve form: summary, customer impact, cause as far as known (and, given the policy, the
    incident type's fields it must have to be resolved that are still empty)."""
    inputs = [
        text_input(Block.SUMMARY, "What was done to restore service", multiline=True),
        text_input(Block.IMPACT, "Customer impact", multiline=True, optional=True),
        text_input(Block.CAUSE, "Cause, as far as known", multiline=True, optional=True),
    ]
    if not incident.private:  # posted only if the incident is on the status page
        label = "Status page resolution, if it is on the status page (default: “This incident has been resolved.”)"
        inputs.append(text_input(PUBLIC_TEXT_BLOCK, label, multiline=True, optional=True))
    inputs += resolve_field_inputs(incident, policy) if policy is not None else []
    form = incident_form(incident, View.RESOLVE, title="Resolve incident", submit="Resolve", inputs=inputs)
    if incident.incident_type is not None:  # the submission reads the type's fields by it
        form["private_metadata"] = json.dumps({"incident": incident.id, "type": incident.incident_type})
    return form
