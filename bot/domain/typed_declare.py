"""What an incident type changes about a declaration: its severity and privacy by default, and the fields
it must have before it is stored. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.domain.custom_fields import check_value, missing, missing_reason, parse_given
from bot.domain.errors import UserError
from bot.domain.incidents import NewIncident
from bot.domain.policy import Policy
from bot.domain.type_policy import type_named


def declared_severity(policy: Policy, incident_type: str | None, given: str | None) -> str:
    """The severity a declaration starts at: the one given, else its type's default, else the policy's."""
    if given:
        return given
    kind = type_named(policy, incident_type)
    if kind is not None and kind.default_severity and (named := policy.severity_named(kind.default_severity)):
        return named.name
    return policy.default_severity


def type_private(new: NewIncident, policy: Policy) -> bool:
    """Whether the declaration's type makes it private unless declared otherwise."""
    kind = type_named(policy, new.incident_type)
    return bool(kind is not None and kind.private)


def refuse_incomplete(new: NewIncident, policy: Policy) -> NewIncident:
    """The declaration with its type's fields checked; UserError naming an unknown type, a wrong value, or
    the required fields it lacks (the reason people read)."""
    if new.incident_type is None:
        return new
    kind = type_named(policy, new.incident_type)
    if kind is None:
        known = ", ".join(sorted(policy.types)) or "none are configured"
        raise UserError(f"There is no incident type {new.incident_type!r} ({known}).")
    values = checked_values(policy, new.incident_type, new.custom_fields)
    absent = missing(kind, values, "declare")
    if absent:
        raise UserError(missing_reason(new.incident_type, absent, "declare"))
    return replace(new, custom_fields=values)


def checked_values(policy: Policy, incident_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored-form values of the type's fields (UserError for a field it does not have or a wrong value)."""
    kind = type_named(policy, incident_type)
    if kind is None:
        return {}
    checked: dict[str, Any] = {}
    for name, value in values.items():
        spec = kind.field(name)
        if spec is None:
            raise UserError(f"A {incident_type} incident has no field {name!r}.")
        if value not in (None, "", []):
            checked[spec.name] = check_value(spec, value)
    return checked


def typed_values(policy: Policy, incident_type: str | None, typed: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The `name=value` words of a slash-command declare as the type's stored values (UserError when wrong)."""
    kind = type_named(policy, incident_type)
    return parse_given(kind, dict(typed)) if kind is not None else {}
