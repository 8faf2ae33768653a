"""An incident type's fields: reading a value from what someone typed or picked, checking it, showing it
(mrkdwn, escaped), and which required fields are still missing, said so people understand. Pure.

Values are stored as JSON: text, select, user (an ID), URL and date (`YYYY-MM-DD`) as strings, number as
a number, multi_select as a list of strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from bot.domain.errors import UserError
from bot.domain.type_policy import FieldSpec, IncidentType, type_named

if TYPE_CHECKING:  # types only
    from bot.domain.incidents import Incident
    from bot.domain.policy import Policy

MAX_TEXT = 500
MAX_URL = 500
_URL = re.compile(r"^https?://[^\s<>|\"]+$", re.IGNORECASE)
_SLACK_LINK = re.compile(r"^<([^<>|]+)(?:\|[^<>]*)?>$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
# `name=value` in a slash command: the value a word, or in straight or curly quotes.
ASSIGNMENT = re.compile(r'(?<!\S)([a-z][a-z0-9_-]*)=("[^"]*"|“[^”]*”|\S+)')
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


# ----- reading values ----------------------------------------------------------------------------
def parse_typed(spec: FieldSpec, typed: str) -> Any:
    """The value of `spec` in text typed in a slash command (Slack-escaped: a mention is `<@U1|bob>`, a
    link `<https://…>`); UserError saying what the field takes."""
    text = typed.strip()
    if spec.kind == "user":
        mention = _USER.match(text)
        if mention is None:
            raise UserError(f"{spec.title} is a person: mention them, e.g. @bob.")
        return mention.group(1)
    if spec.kind == "url":
        link = _SLACK_LINK.match(text)
        return check_value(spec, link.group(1) if link else _unescaped(text))
    text = _unescaped(_without_links(text))
    if spec.kind == "multi_select":
        return check_value(spec, [part.strip() for part in text.split(",") if part.strip()])
    return check_value(spec, text)


def check_value(spec: FieldSpec, value: Any) -> Any:
    """`value` (from a form or from text) as `spec` stores it; UserError saying what the field takes."""
    title = spec.title
    if spec.kind == "number":
        return _number(title, value)
    if spec.kind == "select":
        return _option(spec, str(value or "").strip())
    if spec.kind == "multi_select":
        chosen = [_option(spec, str(v).strip()) for v in (value if isinstance(value, list) else [value])]
        if not chosen:
            raise UserError(f"Choose at least one {title}: {', '.join(spec.options)}.")
        return list(dict.fromkeys(chosen))
    if spec.kind == "user":
        if not isinstance(value, str) or not _USER_ID.match(value):
            raise UserError(f"{title} is a person: mention them, e.g. @bob.")
        return value
    if spec.kind == "date":
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise UserError(f"{title} is a date: write it as YYYY-MM-DD.") from None
    text = " ".join(str(value or "").split())
    if spec.kind == "url":
        if not _URL.match(text) or len(text) > MAX_URL:
            raise UserError(f"{title} is a link starting with https:// (at most {MAX_URL} characters).")
        return text
    if not text:
        raise UserError(f"Write something for {title}.")
    if len(text) > MAX_TEXT:
        raise UserError(f"{title} is {len(text)} characters; keep it to {MAX_TEXT}.")
    return text


def take_assignments(text: str, kind: IncidentType) -> tuple[str, dict[str, str]]:
    """`text` without its `name=value` words naming `kind`'s fields, and those values as typed (quotes
    removed). A word whose name is no field of the type stays in the text."""
    given: dict[str, str] = {}

    def take(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if kind.field(name) is None:
            return match.group(0)
        given[name] = value[1:-1] if value[:1] in ('"', "“") else value
        return ""

    return " ".join(ASSIGNMENT.sub(take, text).split()), given


def parse_given(kind: IncidentType, typed: Mapping[str, str]) -> dict[str, Any]:
    """Typed values by field name, checked (UserError for the first that is wrong)."""
    values: dict[str, Any] = {}
    for name, text in typed.items():
        spec = kind.field(name)
        if spec is None:
            raise UserError(f"This type has no field {name!r}; it has {_names(kind.fields)}.")
        values[spec.name] = parse_typed(spec, text)
    return values


# ----- what is missing ---------------------------------------------------------------------------
def missing(kind: IncidentType, values: Mapping[str, Any], when: Literal["declare", "resolve"]) -> list[FieldSpec]:
    """The required fields with no value yet that must be filled by `when` (at resolve: the declare ones too)."""
    due = kind.fields if when == "resolve" else kind.fields_at("declare")
    return [f for f in due if f.required and values.get(f.name) in (None, "", [])]


def missing_reason(type_name: str, absent: Sequence[FieldSpec], when: Literal["declare", "resolve"]) -> str:
    """Why a declare or resolve is refused, and how to fill the fields in."""
    names = ", ".join(f.title for f in absent)
    plural = "s" if len(absent) > 1 else ""
    if when == "declare":
        example = " ".join(f"{f.name}={_example(f)}" for f in absent)
        return (
            f"A {type_name} incident needs {names} to be declared. Add it{plural} after the title, "
            f"e.g. `{example}`, or use the declare form (`/incident declare` with no title)."
        )
    example = f"/incident field {absent[0].name} {_example(absent[0])}"
    return f"Fill in {names} before resolving this {type_name} incident, e.g. `{example}`."


def refuse_missing(incident: Incident, policy: Policy, when: Literal["declare", "resolve"]) -> None:
    """UserError when `incident`'s type requires fields it does not have yet at `when`."""
    kind = type_named(policy, incident.incident_type)
    if kind is None or incident.incident_type is None:
        return
    absent = missing(kind, incident.custom_fields, when)
    if absent:
        raise UserError(missing_reason(incident.incident_type, absent, when))


# ----- showing values ----------------------------------------------------------------------------
def display(spec: FieldSpec, value: Any) -> str:
    """A stored value in mrkdwn: escaped text, a mention, a link, a Slack date."""
    if value in (None, "", []):
        return "_not set_"
    if spec.kind == "user" and isinstance(value, str) and _USER_ID.match(value):
        return f"<@{value}>"
    if spec.kind == "url" and isinstance(value, str) and _URL.match(value):
        return f"<{value}|{_escape(value)}>"
    if spec.kind == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return _escape(value)
        return f"<!date^{_epoch_noon(day)}^{{date_short_pretty}}|{day.isoformat()}>"
    if isinstance(value, list):
        return ", ".join(_escape(str(v)) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _escape(str(value))


def plain(spec: FieldSpec, value: Any) -> str:
    """A stored value as plain text (timeline entries, postmortem drafts, form initial values)."""
    if value in (None, "", []):
        return "not set"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if spec.kind == "user":
        return f"<@{value}>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def shown_fields(incident: Incident, policy: Policy) -> list[tuple[FieldSpec, Any]]:
    """The incident's type's fields with their values, in the policy's order (values of fields the policy
    no longer has are left out)."""
    kind = type_named(policy, incident.incident_type)
    if kind is None:
        return []
    return [(spec, incident.custom_fields.get(spec.name)) for spec in kind.fields]


def url_fields(incident: Incident, policy: Policy) -> list[tuple[str, str]]:
    """The incident's URL fields that are set, as (label, URL): what becomes the channel's bookmarks."""
    return [
        (spec.title, value)
        for spec, value in shown_fields(incident, policy)
        if spec.kind == "url" and isinstance(value, str) and _URL.match(value)
    ]


# ----- helpers -----------------------------------------------------------------------------------
def _number(title: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise UserError(f"{title} is a number.")
    if isinstance(value, int | float):
        number: int | float = value
    else:
        text = str(value or "").strip().replace(",", "")
        if not _NUMBER.match(text):
            raise UserError(f"{title} is a number, e.g. 42 or 3.5.")
        number = float(text) if "." in text else int(text)
    if isinstance(number, float) and not math.isfinite(number):
        raise UserError(f"{title} is a number, e.g. 42 or 3.5.")
    if abs(number) > 1e15:
        raise UserError(f"{title} is too large a number.")
    return number


def _option(spec: FieldSpec, value: str) -> str:
    found = next((o for o in spec.options if o.lower() == value.lower()), None)
    if found is None:
        raise UserError(f"{spec.title} is one of: {', '.join(spec.options)}.")
    return found


def _names(fields: Sequence[FieldSpec]) -> str:
    return ", ".join(f.name for f in fields) or "no fields"


def _example(spec: FieldSpec) -> str:
    if spec.options:
        option = spec.options[0]
        return f'"{option}"' if " " in option else option
    return {
        "number": "3",
        "user": "@someone",
        "url": "https://…",
        "date": "2026-01-31",
        "text": '"…"',
        "select": "…",
        "multi_select": "…",
    }[spec.kind]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescaped(text: str) -> str:
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text


def _without_links(text: str) -> str:
    """Slack's `<…>` wrappers (links, mentions) replaced by what they show."""
    return re.sub(r"<([^<>|]+)(?:\|([^<>]*))?>", lambda m: m.group(2) or m.group(1).lstrip("@#!"), text)


def _epoch_noon(day: date) -> int:
    """Noon UTC on `day`: a Slack date shows the same day almost everywhere."""
    return (day.toordinal() - date(1970, 1, 1).toordinal()) * 86400 + 12 * 3600
