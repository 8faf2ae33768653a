"""Reading the declare modal's submitted state into a declaration, or field errors. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.errors import UserError
from bot.domain.incidents import DetectedVia, clean_title
from bot.domain.numbers import epoch_time
from bot.domain.policy import Policy
from bot.slack.ids import Block


@dataclass(frozen=True, slots=True)
class DeclareForm:
    """What the declare modal asked for."""

    title: str
    severity: str
    description: str
    detected_via: DetectedVia | None
    started_at: datetime | None
    private: bool = False


def read_declare_form(
    values: dict[str, dict[str, Any]], policy: Policy, *, now: datetime
) -> DeclareForm | dict[str, str]:
    """The form's values, or `{block_id: message}` errors to show beside the fields."""
    errors: dict[str, str] = {}

    def value(block: Block) -> dict[str, Any]:
        return values.get(block, {}).get("value", {}) or {}

    title = ""
    try:
        title = clean_title(value(Block.TITLE).get("value") or "")
    except UserError as exc:
        errors[Block.TITLE] = str(exc)[:150]
    selected = (value(Block.SEVERITY).get("selected_option") or {}).get("value", "")
    severity = policy.severity_named(selected)
    if severity is None:
        errors[Block.SEVERITY] = f"Choose one of {', '.join(policy.severity_names)}."
    description = (value(Block.DESCRIPTION).get("value") or "").strip()
    detected_raw = (value(Block.DETECTED_VIA).get("selected_option") or {}).get("value")
    detected_via = DetectedVia(str(detected_raw)) if detected_raw in DetectedVia._value2member_map_ else None
    started_at = None
    epoch = value(Block.STARTED_AT).get("selected_date_time")
    if epoch is not None:
        started_at = epoch_time(epoch)
        if started_at is None:
            errors[Block.STARTED_AT] = "Pick a date and time."
        elif started_at > now:
            errors[Block.STARTED_AT] = "The start can't be in the future."
    private = any(o.get("value") == "private" for o in value(Block.PRIVATE).get("selected_options") or [])
    if errors or severity is None:
        return errors
    return DeclareForm(title, severity.name, description, detected_via, started_at, private)
