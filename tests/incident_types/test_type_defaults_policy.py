"""What the policy and `tocsin check` say of a type's runbooks, escalation policy (`page_on_declare`) and
postmortem template, and how they apply: the runbooks a typed incident matches, whom its declare pages.
Pure, but for the policy file `tocsin check` reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.domain.policy import Policy
from bot.domain.runbooks import Runbook, RunbookMeta, matches
from bot.domain.type_policy import declare_paging
from bot.domain.type_references import reference_problems
from bot.entrypoints.policy_check import check_policy_file, sample_facts

RUNBOOKS = Path(__file__).parents[2] / "runbooks"
PAGING = {
    "escalation_policies": {"security": {"tiers": [{"notify": ["user:U1"]}]}},
    "types": {"security": {"escalation_policy": "security", "page_on_declare": ["sev1"]}, "internal": {}},
}


def test_a_type_pages_its_escalation_policy_on_declare_only_at_its_severities() -> None:
    policy = Policy.model_validate(PAGING)
    assert declare_paging("security", "SEV1", policy) == "security"
    assert declare_paging("security", "SEV2", policy) is None
    assert declare_paging("internal", "SEV1", policy) is None
    assert declare_paging(None, "SEV1", policy) is None
    assert declare_paging("gone", "SEV1", policy) is None  # a type no longer in the policy


def test_page_on_declare_needs_severities_and_an_escalation_policy() -> None:
    with pytest.raises(ValidationError) as raised:
        Policy.model_validate({"types": {"security": {"page_on_declare": ["SEV1", "SEV9"]}}})
    message = str(raised.value)
    assert "types.security.page_on_declare: 'SEV9' is not a severity" in message
    assert "types.security.page_on_declare: the type has no escalation_policy to page" in message


def test_a_typed_incident_matches_its_types_runbooks_within_their_severities() -> None:
    policy = Policy.model_validate({"types": {"security": {"runbooks": ["leak"]}}})
    leak = Runbook("leak", RunbookMeta(title="Leaked credentials"), ())
    sev1_leak = Runbook("leak", RunbookMeta(title="Leaked credentials", severities=["SEV1"]), ())
    assert matches(leak, title="Keys", service=None, severity="SEV3", policy=policy, incident_type="security")
    assert not matches(leak, title="Keys", service=None, severity="SEV3", policy=policy)
    assert not matches(leak, title="Keys", service=None, severity="SEV3", policy=policy, incident_type="other")
    assert not matches(sev1_leak, title="Keys", service=None, severity="SEV2", policy=policy, incident_type="security")


def test_a_types_template_naming_what_a_draft_lacks_is_a_problem(tmp_path: Path) -> None:
    good = tmp_path / "good.md.j2"
    good.write_text("# {{ reference }} ({{ incident_type }}){% for f in fields %} {{ f.label }}{% endfor %}\n")
    typo = tmp_path / "typo.md.j2"
    typo.write_text("# {{ referense }}\n")
    policy = Policy.model_validate(
        {"types": {"security": {"postmortem_template": str(good)}, "internal": {"postmortem_template": str(typo)}}}
    )
    problems = reference_problems(policy, runbooks=None, sample=sample_facts(policy))
    assert problems == [f"types.internal.postmortem_template: {typo}: 'referense' is undefined"]
    assert reference_problems(policy, runbooks=None) == []  # without a sample, only reading is checked


def test_tocsin_check_reports_a_types_unknown_runbook_at_its_line(tmp_path: Path) -> None:
    policy_file = tmp_path / "tocsin.yml"
    policy_file.write_text(
        f"runbooks_dir: {RUNBOOKS}\n"
        "types:\n"
        "  security:\n"
        "    runbooks:\n"
        "      - rollback-bad-deploy\n"
        "      - no-such-runbook\n"
    )
    report = check_policy_file(policy_file)
    found = [p for p in report.problems if "no-such-runbook" in p.message]
    assert [(p.where, p.line) for p in found] == [(f"{policy_file}:6", 6)]
    assert found[0].message.startswith("types.security.runbooks[1]: no runbook is called 'no-such-runbook'")
    assert not [p for p in report.problems if "called 'rollback-bad-deploy'" in p.message]
