"""Reading, checking and showing a type's fields, and what the policy check says of types. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.domain.custom_fields import (
    display,
    missing,
    missing_reason,
    parse_given,
    parse_typed,
    refuse_missing,
    take_assignments,
    url_fields,
)
from bot.domain.errors import UsageError, UserError
from bot.domain.incidents import Incident, RoleSpan, Status
from bot.domain.policy import Policy
from bot.domain.postmortem import PostmortemFacts, render_draft
from bot.domain.type_policy import FieldSpec
from bot.domain.type_references import reference_problems
from bot.entrypoints.command_parser import parse_command
from bot.entrypoints.command_types import Declare, ShowStats
from bot.entrypoints.type_commands import FieldCommand, parse_field
from bot.entrypoints.type_form import TypedForm, read_type_fields
from tests.incident_types.policies import SECURITY, typed_policy

POLICY = typed_policy()
KIND = POLICY.types["security"]


def spec(name: str) -> FieldSpec:
    found = KIND.field(name)
    assert found is not None
    return found


def incident(**fields: object) -> Incident:
    return Incident(
        id=1, team_id="T1", number=7, title="Keys leaked", severity="SEV2", status=Status.INVESTIGATING,
        declared_by="U1", declared_at=datetime(2026, 1, 1, tzinfo=UTC), incident_type="security",
        custom_fields=dict(fields),
    )  # fmt: skip


def test_each_kind_reads_what_people_type_in_slack() -> None:
    assert parse_typed(spec("customer"), "Acme &amp; Sons") == "Acme & Sons"
    assert parse_typed(spec("ticket"), "<https://tickets.example.com/42>") == "https://tickets.example.com/42"
    assert parse_typed(spec("exposed"), "YES") == "yes"
    assert parse_typed(spec("systems"), "api, db, api") == ["api", "db"]
    assert parse_typed(spec("records"), "1,200") == 1200
    assert parse_typed(spec("records"), "2.5") == 2.5
    assert parse_typed(spec("owner"), "<@U0BOB|bob>") == "U0BOB"
    assert parse_typed(spec("detected"), "2026-03-01") == "2026-03-01"


@pytest.mark.parametrize(
    ("name", "typed", "says"),
    [
        ("exposed", "maybe", "one of: yes, no, unknown"),
        ("systems", "api, moon", "one of: api, db, web"),
        ("records", "lots", "is a number"),
        ("owner", "bob", "mention them"),
        ("detected", "tomorrow", "YYYY-MM-DD"),
        ("ticket", "javascript:alert(1)", "https://"),
        ("ticket", "<https://a.example|x> <https://b.example>", "https://"),
    ],
)
def test_a_wrong_value_is_refused_saying_what_the_field_takes(name: str, typed: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        parse_typed(spec(name), typed)


def test_values_are_shown_escaped_and_as_slack_renders_them() -> None:
    assert display(spec("customer"), "<!channel> & co") == "&lt;!channel&gt; &amp; co"
    assert display(spec("owner"), "U0BOB") == "<@U0BOB>"
    assert display(spec("ticket"), "https://x.example/a") == "<https://x.example/a|https://x.example/a>"
    assert display(spec("systems"), ["api", "<db>"]) == "api, &lt;db&gt;"
    assert display(spec("records"), 3.0) == "3"
    assert display(spec("detected"), "2026-03-01").startswith("<!date^")
    assert display(spec("customer"), None) == "_not set_"


def test_assignments_after_the_title_are_the_types_fields_and_the_rest_is_the_title() -> None:
    text, given = take_assignments('Keys leaked a=b customer="Acme Corp" exposed=yes', KIND)
    assert text == "Keys leaked a=b"
    assert given == {"customer": "Acme Corp", "exposed": "yes"}
    assert parse_given(KIND, given) == {"customer": "Acme Corp", "exposed": "yes"}


def test_missing_required_fields_at_declare_and_at_resolve() -> None:
    assert [f.name for f in missing(KIND, {}, "declare")] == ["customer"]
    assert [f.name for f in missing(KIND, {"customer": "Acme"}, "resolve")] == ["root-cause"]
    reason = missing_reason("security", missing(KIND, {}, "declare"), "declare")
    assert "A security incident needs Customer to be declared" in reason and "customer=" in reason
    with pytest.raises(UserError, match="Fill in Root cause before resolving"):
        refuse_missing(incident(customer="Acme"), POLICY, "resolve")
    refuse_missing(incident(customer="Acme", **{"root-cause": "a bad key"}), POLICY, "resolve")


def test_url_fields_are_what_becomes_bookmarks() -> None:
    assert url_fields(incident(ticket="https://t.example/1", customer="Acme"), POLICY) == [
        ("Ticket", "https://t.example/1")
    ]
    assert url_fields(incident(), POLICY) == []


def test_declare_parses_the_type_its_default_and_its_fields() -> None:
    parsed = parse_command("declare --type security Keys leaked customer=Acme", POLICY)
    assert parsed == Declare("Keys leaked", None, False, "security", (("customer", "Acme"),))
    private = parse_command("declare --private --type internal sev1 Quiet one", POLICY)
    assert private == Declare("Quiet one", "SEV1", True, "internal", ())
    form = parse_command("declare --type security", POLICY)
    assert form == Declare(None, None, False, "security", ())


def test_declare_refuses_an_unknown_type_and_a_wrong_field_value() -> None:
    with pytest.raises(UsageError, match="isn't an incident type"):
        parse_command("declare --type nope Broken", POLICY)
    with pytest.raises(UserError, match="one of: yes, no, unknown"):
        parse_command("declare --type security Broken customer=Acme exposed=perhaps", POLICY)


def test_stats_take_a_type() -> None:
    assert parse_command("stats 90d type=security", POLICY) == ShowStats(90, False, "security")
    with pytest.raises(UsageError, match="incident type"):
        parse_command("stats type=nope", POLICY)


def test_the_field_command_names_a_field_and_a_value() -> None:
    assert parse_field("customer Acme Corp", POLICY, "u") == FieldCommand("customer", "Acme Corp")
    assert parse_field("INC-4 exposed yes", POLICY, "u").target.number == 4
    with pytest.raises(UsageError, match="Name the field"):
        parse_field("customer", POLICY, "u")


def test_the_form_reader_checks_each_field_and_the_required_ones() -> None:
    values: dict[str, dict[str, Any]] = {
        "incident_type": {"incident_type_chosen": {"type": "static_select", "selected_option": {"value": "security"}}},
        "field:records": {"value": {"type": "plain_text_input", "value": "many"}},
        "field:systems": {"value": {"type": "checkboxes", "selected_options": [{"value": "db"}]}},
    }
    errors = read_type_fields(values, POLICY, shown={"field:customer", "field:records", "field:systems"})
    assert isinstance(errors, dict)
    assert set(errors) == {"field:records", "field:customer"}
    values["field:records"] = {"value": {"type": "plain_text_input", "value": "12"}}
    values["field:customer"] = {"value": {"type": "plain_text_input", "value": "Acme"}}
    read = read_type_fields(values, POLICY)
    assert read == TypedForm("security", {"records": 12, "systems": ["db"], "customer": "Acme"})


def test_the_policy_check_names_what_a_type_gets_wrong() -> None:
    broken = {
        **SECURITY,
        "default_severity": "SEV9",
        "roles": ["wizard"],
        "escalation_policy": "nobody",
        "fields": [
            {"name": "Bad Name"},
            {"name": "pick", "kind": "select"},
            {"name": "twice"},
            {"name": "twice", "options": ["a"]},
        ],
    }
    with pytest.raises(ValidationError) as raised:
        Policy.model_validate({"types": {"security": broken, "Shouty": {}}})
    message = str(raised.value)
    for expected in (
        "types.security.default_severity: 'SEV9' is not a severity",
        "types.security.roles: 'wizard' is not a role key",
        "unknown escalation policy 'nobody'",
        "types.security.fields[0].name",
        "types.security.fields[1].options: a select field needs its options",
        "'twice' is used twice",
        "types.security.fields[3].options: only select and multi_select fields have options",
        "types.Shouty: a type's name is one lowercase word",
    ):
        assert expected in message, expected


def test_tocsin_check_names_a_types_missing_runbook_and_unreadable_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{% if %}")
    policy = Policy.model_validate(
        {"types": {"security": {"runbooks": ["db-pool", "nope"], "postmortem_template": str(broken)}}}
    )
    problems = reference_problems(policy, runbooks={"db-pool"})
    assert problems[0] == "types.security.runbooks[1]: no runbook is called 'nope' (there are: db-pool)"
    assert problems[1].startswith(f"types.security.postmortem_template: {broken}:1:")


def test_the_postmortem_draft_lists_the_type_and_its_fields_blamelessly() -> None:
    facts = PostmortemFacts(
        incident(customer="Acme | Co", owner="U1"),
        timeline=[],
        roles=[RoleSpan("incident_commander", "U1", datetime(2026, 1, 1, tzinfo=UTC))],
    )
    draft = render_draft(facts, POLICY)
    assert "| Type | security |" in draft
    assert "| Customer | Acme \\| Co |" in draft
    assert "| Owner | the Incident Commander |" in draft
    assert "| Ticket | not set |" in draft
