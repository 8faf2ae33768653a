"""The policy the incident-type tests use: a security type with fields of every kind."""

from __future__ import annotations

from typing import Any

from bot.domain.policy import Policy

SECURITY: dict[str, Any] = {
    "description": "A suspected breach",
    "default_severity": "SEV2",
    "roles": ["tech_lead"],
    "notify": ["#security-leads"],
    "fields": [
        {"name": "customer", "kind": "text", "required": True},
        {"name": "ticket", "label": "Ticket", "kind": "url"},
        {"name": "exposed", "label": "Data exposed", "kind": "select", "options": ["yes", "no", "unknown"]},
        {"name": "systems", "kind": "multi_select", "options": ["api", "db", "web"]},
        {"name": "records", "kind": "number"},
        {"name": "owner", "kind": "user"},
        {"name": "detected", "kind": "date"},
        {"name": "root-cause", "label": "Root cause", "kind": "text", "required": True, "when": "resolve"},
    ],
}


def typed_policy(**extra: Any) -> Policy:
    """A policy with the security type (and a field-less internal one)."""
    return Policy.model_validate({"types": {"security": SECURITY, "internal": {"description": "Only us"}}, **extra})
