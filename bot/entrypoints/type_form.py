"""Reading the incident type and its fields from a submitted form (declare or resolve), or the errors to
show beside each field. Pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.domain.custom_fields import check_value, missing
from bot.domain.errors import UserError
from bot.domain.policy import Policy
from bot.domain.type_policy import type_named, type_title
from bot.slack.blocks.incident_types import FIELD_BLOCK, NO_TYPE, TYPE_ACTION, TYPE_BLOCK


@dataclass(frozen=True, slots=True)
class TypedForm:
    """The type a form chose (None: no type) and its fields' values as stored."""

    incident_type: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def chosen_type(values: dict[str, dict[str, Any]], policy: Policy) -> str | None:
    """The type picked in the declare form's type select (None: none, or one the policy no longer has)."""
    picked = ((values.get(TYPE_BLOCK, {}).get(TYPE_ACTION) or {}).get("selected_option") or {}).get("value")
    return picked if isinstance(picked, str) and picked != NO_TYPE and picked in policy.types else None


def read_type_fields(
    values: dict[str, dict[str, Any]],
    policy: Policy,
    *,
    incident_type: str | None = None,
    when: Literal["declare", "resolve"] = "declare",
    shown: Collection[str] | None = None,
) -> TypedForm | dict[str, str]:
    """The declare form's type and fields (or, given `incident_type`, the resolve form's fields), or
    `{block_id: message}` errors: a value a field cannot take, a required field left empty. `shown`: the
    form's block_ids (a required field the form did not show is the resolve's to refuse, or, at declare,
    a sign the form was not yet showing the chosen type's fields)."""
    name = incident_type if incident_type is not None else chosen_type(values, policy)
    kind = type_named(policy, name)
    if kind is None or name is None:
        return TypedForm()
    errors: dict[str, str] = {}
    read: dict[str, Any] = {}
    asked = [f for f in kind.fields if f.when == "declare"] if when == "declare" else kind.fields
    for spec in asked:
        block = FIELD_BLOCK + spec.name
        if block not in values:
            continue
        raw = _state_value(values[block].get("value") or {})
        if raw in (None, "", []):
            continue
        try:
            read[spec.name] = check_value(spec, raw)
        except UserError as exc:
            errors[block] = str(exc)[:150]
    for spec in missing(kind, read, when):
        block = FIELD_BLOCK + spec.name
        if shown is None or block in shown:
            errors.setdefault(block, f"Required for a {type_title(name).lower()} incident.")
        elif when == "declare":
            errors.setdefault(TYPE_BLOCK, f"Choose the type again to fill in {spec.title}.")
    return errors if errors else TypedForm(name, read)


def block_ids(view: dict[str, Any]) -> set[str]:
    """The block_ids a view shows."""
    return {str(b.get("block_id")) for b in view.get("blocks", []) if isinstance(b, dict) and b.get("block_id")}


def merged_errors(*results: object) -> dict[str, str]:
    """The errors among forms' read results (each is a record or a `{block_id: message}` dict)."""
    errors: dict[str, str] = {}
    for result in results:
        if isinstance(result, dict):
            errors.update(result)
    return errors


def _state_value(state: dict[str, Any]) -> Any:
    """What an input element's state holds, whatever its kind."""
    kind = state.get("type")
    if kind in ("static_select", "radio_buttons"):
        return (state.get("selected_option") or {}).get("value")
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in state.get("selected_options") or []]
    if kind == "users_select":
        return state.get("selected_user")
    if kind == "datepicker":
        return state.get("selected_date")
    return state.get("value")
