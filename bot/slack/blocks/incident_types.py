"""Block Kit for incident types: the declare form's type select and the chosen type's fields, the resolve
form's fields, and the type, fields and call shown in the header, the summary and App Home."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.custom_fields import display, plain, shown_fields
from bot.domain.incidents import Incident
from bot.domain.policy import Policy
from bot.domain.type_policy import FieldSpec, type_named, type_title
from bot.slack.blocks.primitives import MAX_FIELD_TEXT, Blocks, _option, _plain, _text, form_input
from bot.slack.ids import Block
from bot.slack.mrkdwn import escape, trim

TYPE_BLOCK = "incident_type"  # the declare form's type select (block_id)
TYPE_ACTION = "incident_type_chosen"  # its action_id: choosing a type shows its fields (views.update)
NO_TYPE = "-"  # the option for a declaration without a type
FIELD_BLOCK = "field:"  # + the field's name: a field's input block
CHECKBOX_LIMIT = 10  # a multi_select with more options is a multi_static_select (Block Kit)
_SAFE_URL = re.compile(r"^https?://[^\s<>|\"]+$", re.IGNORECASE)


# ----- forms -------------------------------------------------------------------------------------
def with_type_blocks(
    inputs: Blocks, policy: Policy, incident_type: str | None = None, *, severity_given: bool = False
) -> Blocks:
    """The declare form's `inputs` with the type select first and the chosen type's declare fields after
    the severity (the severity set to the type's default unless one was given). A policy without types
    leaves them as they are. Works on a form's blocks as Slack returned them, too (the form retyped)."""
    if not policy.types:
        return list(inputs)
    kind = type_named(policy, incident_type)
    blocks = [b for b in inputs if not _is_type_block(b)]
    at = next((i + 1 for i, b in enumerate(blocks) if b.get("block_id") == Block.SEVERITY), len(blocks))
    fields = [_field_input(spec) for spec in kind.fields_at("declare")] if kind is not None else []
    blocks = [_type_select(policy, incident_type if kind else None), *blocks[:at], *fields, *blocks[at:]]
    if kind is not None and kind.default_severity and not severity_given:
        blocks = [_with_severity(b, kind.default_severity, policy) for b in blocks]
    return blocks


def _type_select(policy: Policy, chosen: str | None) -> dict[str, Any]:
    """The type select: choosing one dispatches at once, so the form can show that type's fields."""
    options = [_option("No particular type", NO_TYPE)]
    options += [_option(_type_label(name, kind.description), name) for name, kind in list(policy.types.items())[:99]]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": TYPE_ACTION,
        "placeholder": _plain("Choose a type", 150),
        "options": options,
    }
    if (initial := next((o for o in options if o["value"] == chosen), None)) is not None:
        element["initial_option"] = initial
    block = form_input(TYPE_BLOCK, "Type", element, optional=True)
    block["dispatch_action"] = True
    return block


def _field_input(spec: FieldSpec, value: Any = None) -> dict[str, Any]:
    """A field's input block (block_id `field:<name>`, action_id `value`), pre-filled with `value`."""
    element: dict[str, Any]
    if spec.kind == "select":
        element = {"type": "static_select", "action_id": "value", "options": [_option(o, o) for o in spec.options]}
        if value in spec.options:
            element["initial_option"] = _option(value, value)
    elif spec.kind == "multi_select":
        kind = "checkboxes" if len(spec.options) <= CHECKBOX_LIMIT else "multi_static_select"
        element = {"type": kind, "action_id": "value", "options": [_option(o, o) for o in spec.options]}
        if isinstance(value, list) and value:
            element["initial_options"] = [_option(o, o) for o in spec.options if o in value]
    elif spec.kind == "user":
        element = {"type": "users_select", "action_id": "value", **({"initial_user": value} if value else {})}
    elif spec.kind == "date":
        element = {"type": "datepicker", "action_id": "value", **({"initial_date": value} if value else {})}
    else:  # text, number and URL are typed (and checked on submission)
        element = {"type": "plain_text_input", "action_id": "value", "max_length": 500}
        if value not in (None, ""):
            element["initial_value"] = plain(spec, value)
        if spec.kind == "url":
            element["placeholder"] = _plain("https://…", 150)
    block = form_input(FIELD_BLOCK + spec.name, spec.title, element, optional=not spec.required)
    if spec.description:
        block["hint"] = _plain(spec.description, 2000)
    return block


def resolve_field_inputs(incident: Incident, policy: Policy) -> Blocks:
    """The resolve form's inputs for the type's fields required to resolve that are not filled in yet."""
    kind = type_named(policy, incident.incident_type)
    if kind is None:
        return []
    wanted = [f for f in kind.fields if f.required and incident.custom_fields.get(f.name) in (None, "", [])]
    return [_field_input(spec) for spec in wanted]


def _is_type_block(block: dict[str, Any]) -> bool:
    block_id = str(block.get("block_id") or "")
    return block_id == TYPE_BLOCK or block_id.startswith(FIELD_BLOCK)


def _with_severity(block: dict[str, Any], severity: str, policy: Policy) -> dict[str, Any]:
    if block.get("block_id") != Block.SEVERITY:
        return block
    element = block["element"]
    named = policy.severity_named(severity)
    chosen = next((o for o in element.get("options", []) if named and o["value"] == named.name), None)
    return {**block, "element": {**element, "initial_option": chosen}} if chosen else block


def _type_label(name: str, description: str) -> str:
    label = name.replace("_", " ").replace("-", " ").capitalize()
    return f"{label} — {description}" if description else label


# ----- showing an incident's type, fields and call ------------------------------------------------
def bridge_line(incident: Incident) -> str | None:
    """The call to join, as a link (None without one, or with a URL that is no http(s) link)."""
    url = incident.bridge_url
    if not url or not _SAFE_URL.match(url):
        return None
    return f"*Call:* <{url}|Join the call>"


def type_lines(incident: Incident, policy: Policy) -> list[str]:
    """`Type: Security` and one `Label: value` line per field (escaped mrkdwn; unset ones say so)."""
    if incident.incident_type is None:
        return []
    lines = [f"*Type:* {escape(type_title(incident.incident_type))}"]
    lines += [f"*{escape(spec.title)}:* {display(spec, value)}" for spec, value in shown_fields(incident, policy)]
    return lines


def _wanted_roles(incident: Incident, policy: Policy) -> list[str]:
    """The type's roles nobody holds yet, by name."""
    kind = type_named(policy, incident.incident_type)
    if kind is None:
        return []
    names = {r.key: r.name for r in policy.roles}
    return [names.get(key, key) for key in kind.roles if key not in incident.roles]


def header_blocks(incident: Incident, policy: Policy) -> Blocks:
    """The header's part about the type, its fields, the roles it wants filled, and the call (empty when
    the incident has none of these)."""
    fields = [f.replace(":* ", "*\n", 1) for f in type_lines(incident, policy)]
    if roles := _wanted_roles(incident, policy):
        fields.append("*Roles to fill*\n" + escape(", ".join(roles)))
    blocks: Blocks = []
    for start in range(0, len(fields), 10):  # a section holds 10 fields
        chunk = fields[start : start + 10]
        blocks.append({"type": "section", "fields": [_text(trim(f, MAX_FIELD_TEXT)) for f in chunk]})
    if (call := bridge_line(incident)) is not None:
        blocks.append({"type": "section", "text": _text(f":telephone_receiver: {call}")})
    return blocks


def home_label(incident: Incident) -> str:
    """The incident's type in an App Home line (` · Security`), or nothing."""
    return f" · {escape(type_title(incident.incident_type))}" if incident.incident_type else ""
