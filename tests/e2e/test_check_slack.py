"""`tocsin check --slack`: a real `tocsin` process asks the Slack double whether every user and user
group the policy names exists, and refuses those that do not, each with its line and key path."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.test_process import clean_env, run
from tests.slack_double import SlackDouble

POLICY = """\
admins: [U0ALICE]
permissions:
  resolve: [incident_commander, ghost@example.com]
schedules:
  primary:
    users: [U0BOB, erin@example.com, nobody@example.com, U0GHOST]
escalation_policies:
  payments:
    tiers:
      - {notify: [schedule:primary, "user:dave@example.com"], after: 5m}
      - {notify: [group:S0NOPE, group:S0MGMT], after: 10m}
"""


def slack_env(double: SlackDouble) -> dict[str, str]:
    return clean_env(
        PYTHONPATH=os.getcwd(),
        SLACK_BOT_TOKEN=double.bot_token,
        SLACK_SIGNING_SECRET=double.signing_secret,
        SLACK_API_URL=double.api_url,
    )


async def test_users_and_groups_slack_does_not_know_are_refused_with_their_lines(
    people: SlackDouble, tmp_path: Path
) -> None:
    (tmp_path / "tocsin.yml").write_text(POLICY)
    code, _, err = await run("check", "--slack", "tocsin.yml", env=slack_env(people), cwd=tmp_path)
    assert code == 2
    assert err.splitlines() == [
        "tocsin: tocsin.yml:3: permissions.resolve[1]: ghost@example.com: no Slack user has that e-mail",
        "tocsin: tocsin.yml:6: schedules.primary.users[2]: nobody@example.com: no Slack user has that e-mail",
        "tocsin: tocsin.yml:6: schedules.primary.users[3]: U0GHOST: no active Slack user has that ID",
        "tocsin: tocsin.yml:11: escalation_policies.payments.tiers[1].notify[0]: group:S0NOPE: "
        "Slack said no_such_subteam",
        "tocsin: 4 problem(s) found",
    ]


async def test_a_policy_whose_people_all_exist_passes(people: SlackDouble, tmp_path: Path) -> None:
    people.add_user("U0GONE", "gone")
    people.users["U0GONE"]["deleted"] = True  # deactivated: nobody can be paged there
    (tmp_path / "tocsin.yml").write_text("schedules:\n  primary:\n    users: [U0BOB, erin@example.com]\n")
    code, out, err = await run("check", "--slack", "tocsin.yml", env=slack_env(people), cwd=tmp_path)
    assert (code, err) == (0, "")
    assert "erin@example.com" in out
    (tmp_path / "tocsin.yml").write_text("admins: [U0GONE]\n")
    code, _, err = await run("check", "--slack", "tocsin.yml", env=slack_env(people), cwd=tmp_path)
    assert code == 2 and "admins[0]: U0GONE: no active Slack user has that ID" in err


async def test_without_slack_the_same_policy_is_only_checked_offline(people: SlackDouble, tmp_path: Path) -> None:
    (tmp_path / "tocsin.yml").write_text(POLICY)
    code, _, err = await run("check", "tocsin.yml", env=clean_env(PYTHONPATH=os.getcwd()), cwd=tmp_path)
    assert (code, err) == (0, "")
    assert people.calls_to("users.lookupByEmail") == []
