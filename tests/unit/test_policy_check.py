"""`tocsin check` on policy files: what it refuses, with which line and key path, in line order; values
YAML cut at a `#`; and templates rendered against a sample incident whose loops all run."""

from __future__ import annotations

from pathlib import Path

from bot.domain.policy import Policy
from bot.domain.postmortem import render_draft
from bot.entrypoints.policy_check import check_policy_file, sample_facts

BROKEN = """\
schedules:
  primary:
    users: [U0BOB, not-an-email@, "@erin"]
escalation_policies:
  payments:
    ack_timeout: 0s
    tiers:
      - {notify: [schedule:primary, "user:carol"], after: 0s}
services:
  checkout:
    escalation_policy: payments
    runbooks: [database-connection-pool, no-such-runbook]
permissions:
  resolve: [incident_commander, bob]
"""


def problems(tmp_path: Path, text: str, **files: str) -> list[str]:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    (tmp_path / "tocsin.yml").write_text(text)
    return [str(p).removeprefix(f"{tmp_path}/") for p in check_policy_file(tmp_path / "tocsin.yml").problems]


def test_each_mistake_is_named_with_its_line_in_line_order(tmp_path: Path) -> None:
    assert problems(tmp_path, BROKEN) == [
        "tocsin.yml:3: schedules.primary.users[1]: 'not-an-email@' is not a user: "
        "give a Slack member ID (U…) or an e-mail address",
        "tocsin.yml:3: schedules.primary.users[2]: '@erin' is not a user: "
        "@names are not unique and can change, so give the member ID (U…) or e-mail address",
        "tocsin.yml:6: escalation_policies.payments.ack_timeout: "
        "must be longer than 0s (leave it out for acknowledgements that never run out)",
        "tocsin.yml:8: escalation_policies.payments.tiers[0].notify[1]: 'carol' is not a user: "
        "give a Slack member ID (U…) or an e-mail address",
        "tocsin.yml:8: escalation_policies.payments.tiers[0].after: "
        "must be longer than 0s: the time this tier has to acknowledge before the next",
        "tocsin.yml:12: services.checkout.runbooks[1]: no runbook is called 'no-such-runbook' (there are: "
        "certificate-expiry, database-connection-pool, major-incident-sev1, out-of-memory-crash-loop, "
        "rollback-bad-deploy, third-party-outage)",
        "tocsin.yml:14: permissions.resolve[1]: 'bob' is not a user: "
        "give a Slack member ID (U…) or an e-mail address, or anyone, admins, a role or token:NAME",
    ]


def test_a_policy_naming_people_every_way_it_may_passes(tmp_path: Path) -> None:
    text = """\
admins: [U0ADMIN, boss@example.com]
permissions: {resolve: [incident_commander, W0GRID01, ops@example.com]}
schedules:
  primary:
    users: [U0BOB, erin@example.com]
    overrides: [{user: ann@example.com, start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z"}]
escalation_policies:
  payments:
    tiers: [{notify: [schedule:primary, "user:erin@example.com", "email:cto@example.com", "group:S0MGMT"]}]
services:
  checkout: {owners: [owner@example.com], escalation_policy: payments, runbooks: [database-connection-pool]}
"""
    assert problems(tmp_path, text) == []


def test_a_value_yaml_cut_at_a_hash_is_refused_saying_how_to_quote_it(tmp_path: Path) -> None:
    text = """\
broadcast_channel: "#incidents"   # quoted, with a comment: fine
private_incidents:
  notice: A private incident was declared; contact #security.
  channel_suffix: private
severities:
  - name: SEV1
    notify:
      - #leadership
    description: Everything is down  # a comment, written with a space
"""
    notice, leadership, empty = problems(tmp_path, text)
    assert notice == (
        "tocsin.yml:3: private_incidents.notice: YAML reads `#security.…` as a comment, so the value is cut to "
        "'A private incident was declared; contact'; quote it: "
        'notice: "A private incident was declared; contact #security." '
        "(a comment is written with a space: # security.)"
    )
    assert leadership == (
        'tocsin.yml:8: `- #leadership` reads as a YAML comment, so the value is empty; quote the channel: "#leadership"'
    )
    assert empty == "tocsin.yml:8: severities[0].notify[0]: Input should be a valid string"  # what YAML left


def test_an_empty_free_text_value_is_refused_too(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "private_incidents:\n  notice: #security will contact you\n")
    assert found.startswith("tocsin.yml:2: private_incidents.notice: YAML reads `#security…` as a comment")
    assert 'quote it: notice: "#security will contact you"' in found


LOOPING_TEMPLATE = """\
{% for change in severity_changes %}{{ change.whne }}{% endfor %}
{% for item in follow_ups %}{{ item.ownr }}{% endfor %}
{% for entry in pinned %}{{ entry.txt }}{% endfor %}
"""


def test_a_misspelt_name_inside_any_loop_of_a_template_is_caught(tmp_path: Path) -> None:
    for line in LOOPING_TEMPLATE.splitlines():
        found = problems(tmp_path, "postmortem_template: pm.md.j2\n", **{"pm.md.j2": line + "\n"})
        assert len(found) == 1 and found[0].startswith("tocsin.yml:1: postmortem_template: ")
        assert "has no attribute" in found[0]


def test_the_sample_incident_has_something_in_every_loop_of_the_built_in_template() -> None:
    facts = sample_facts(Policy())
    draft = render_draft(facts, Policy())
    assert "Declared at SEV4" in draft and "(fewer customers than feared)" in draft  # severity history
    assert "| Raise the pool size |" in draft and "| overdue |" in draft and "| done |" in draft  # follow-ups
    assert "- Pinned: [" in draft and "### " in draft  # pinned messages, status updates
