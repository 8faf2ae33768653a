"""Reading the declare modal."""

from datetime import UTC, datetime
from typing import Any

from bot.domain.incidents import DetectedVia
from bot.domain.policy import Policy
from bot.entrypoints.declare_form import DeclareForm, read_declare_form

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def state(**values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A modal's `state.values`: one input per block id."""
    return {block: {"value": value} for block, value in values.items()}


def test_a_complete_form_reads_into_a_declaration() -> None:
    form = read_declare_form(
        state(
            title={"type": "plain_text_input", "value": "  Checkout   errors "},
            severity={"type": "static_select", "selected_option": {"value": "SEV1"}},
            description={"type": "plain_text_input", "value": "EU only"},
            detected_via={"type": "radio_buttons", "selected_option": {"value": "monitoring"}},
            started_at={"type": "datetimepicker", "selected_date_time": int(NOW.timestamp()) - 600},
        ),
        Policy(),
        now=NOW,
    )
    assert form == DeclareForm(
        "Checkout errors", "SEV1", "EU only", DetectedVia.MONITORING, datetime(2026, 11, 22, 11, 50, tzinfo=UTC)
    )


def test_blank_title_unknown_severity_and_a_future_start_are_errors_beside_their_fields() -> None:
    errors = read_declare_form(
        state(
            title={"type": "plain_text_input", "value": "   "},
            severity={"type": "static_select", "selected_option": {"value": "SEV9"}},
            started_at={"type": "datetimepicker", "selected_date_time": int(NOW.timestamp()) + 3600},
        ),
        Policy(),
        now=NOW,
    )
    assert isinstance(errors, dict)
    assert set(errors) == {"title", "severity", "started_at"}
