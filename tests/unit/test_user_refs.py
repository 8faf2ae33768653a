"""How the policy names people: one parser for every key that names a user, escalation targets, and
permissions that name users by e-mail. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import UserError
from bot.domain.escalation import Plan, Tier, plan_for_policy, targets
from bot.domain.permissions import Act, may, require, require_role_change
from bot.domain.policy import Policy
from bot.domain.policy_users import groups_named, permission_users, users_named
from bot.domain.user_refs import Directory, Target, parse_target, parse_user_ref
from tests.builders import an_incident

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["U0123ABCD", "W0123ABCD", "erin@example.com", " bob.smith+oncall@corp.example.co.uk "]
)
def test_ids_and_addresses_are_users(text: str) -> None:
    assert parse_user_ref(text) == text.strip()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not-an-email@", "give a Slack member ID (U…) or an e-mail address"),
        ("@erin", "@names are not unique and can change"),
        ("<@U0123|erin>", "write the ID inside the mention alone"),
        ("carol", "give a Slack member ID"),
        ("u0123abcd", "give a Slack member ID"),
        ("erin@localhost", "give a Slack member ID"),
        ("", "is not a user"),
    ],
)
def test_anything_else_is_refused_saying_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_user_ref(text)


def test_targets_have_one_spelling() -> None:
    assert parse_target("user:erin@example.com") == Target("user", "erin@example.com")
    assert parse_target("email:erin@example.com") == Target("user", "erin@example.com")  # the older spelling
    assert parse_target("group:S0MGMT") == Target("group", "S0MGMT")
    assert str(parse_target("schedule:payments-primary")) == "schedule:payments-primary"
    for bad, says in [
        ("user:carol", "'carol' is not a user"),
        ("email:U0ERIN", "email: needs an e-mail address"),
        ("group:mgmt", "a user group is named by its ID"),
        ("team:payments", "must be schedule:NAME, user:U… (or user:ADDRESS) or group:S…"),
        ("schedule:", "must be schedule:NAME"),
    ]:
        with pytest.raises(ValueError, match=re.escape(says)):
            parse_target(bad)


PEOPLE = Policy.model_validate(
    {
        "admins": ["erin@example.com"],
        "permissions": {"severity": ["incident_commander", "dave@example.com", "U0CAROL"]},
        "schedules": {
            "primary": {
                "users": ["U0BOB", "bob@example.com"],
                "overrides": [
                    {"user": "ann@example.com", "start": "2026-11-22T00:00:00Z", "end": "2026-11-23T00:00:00Z"}
                ],
            },
            "sun": {"layers": [{"users": ["U0LDN"], "hours": "08:00-16:00"}, {"users": ["sf@example.com"]}]},
        },
        "escalation_policies": {
            "p": {"tiers": [{"notify": ["schedule:primary", "email:cto@example.com", "group:S0MGMT", "user:U0VP"]}]}
        },
        "services": {"checkout": {"owners": ["owner@example.com"], "escalation_policy": "p"}},
    }
)


def test_every_user_the_policy_names_is_listed_with_its_key_path() -> None:
    assert users_named(PEOPLE) == [
        (("admins", 0), "erin@example.com"),
        (("permissions", "severity", 1), "dave@example.com"),
        (("permissions", "severity", 2), "U0CAROL"),
        (("schedules", "primary", "users", 0), "U0BOB"),
        (("schedules", "primary", "users", 1), "bob@example.com"),
        (("schedules", "primary", "overrides", 0, "user"), "ann@example.com"),
        (("schedules", "sun", "layers", 0, "users", 0), "U0LDN"),
        (("schedules", "sun", "layers", 1, "users", 0), "sf@example.com"),
        (("escalation_policies", "p", "tiers", 0, "notify", 1), "cto@example.com"),
        (("escalation_policies", "p", "tiers", 0, "notify", 3), "U0VP"),
        (("services", "checkout", "owners", 0), "owner@example.com"),
    ]
    assert permission_users(PEOPLE) == ["erin@example.com", "dave@example.com", "U0CAROL"]
    assert groups_named(PEOPLE) == [(("escalation_policies", "p", "tiers", 0, "notify", 2), "S0MGMT")]


def test_a_tier_means_ids_and_addresses_alike_with_schedules_resolved() -> None:
    plan = plan_for_policy("p", PEOPLE)
    assert plan.tiers[0].notify[1] == "user:cto@example.com"  # stored in its one spelling
    meant = targets(plan.tiers[0], plan, NOW)
    assert (meant.users, meant.groups, meant.unusable) == (
        ["bob@example.com", "cto@example.com", "U0VP"],
        ["S0MGMT"],
        [],
    )


def test_a_page_stored_before_users_were_checked_still_loads_and_says_what_it_cannot_page() -> None:
    stored = {
        "name": "old",
        "repeat": 0,
        "tiers": [{"notify": ["user:carol", "schedule:s"], "after": 300, "min_severity": None}],
        "schedules": {"s": {"timezone": "UTC", "layers": [{"users": ["carol-the-oncall"]}], "overrides": []}},
    }
    plan = Plan.from_json(stored)
    meant = targets(plan.tiers[0], plan, NOW)
    assert meant.users == ["carol-the-oncall"]  # the resolver refuses it, loudly
    assert [who for who, _ in meant.unusable] == ["user:carol"]
    assert targets(Tier(("group:S1",), timedelta(minutes=5)), plan, NOW).groups == ["S1"]


def test_an_address_in_permissions_grants_what_its_owners_id_would() -> None:
    incident = an_incident(roles={"incident_commander": "U0IC"})
    known = Directory({"erin@example.com": "U0ERIN", "dave@example.com": "U0DAVE"})
    assert may(Act.SEVERITY, actor="U0DAVE", incident=incident, policy=PEOPLE, directory=known)
    assert may(Act.SEVERITY, actor="U0CAROL", incident=incident, policy=PEOPLE, directory=known)
    assert may(Act.SEVERITY, actor="U0IC", incident=incident, policy=PEOPLE, directory=known)
    assert not may(Act.SEVERITY, actor="U0BOB", incident=incident, policy=PEOPLE, directory=known)
    assert may(Act.RESOLVE, actor="U0ERIN", incident=incident, policy=PEOPLE, directory=known)  # an admin
    require_role_change(
        "incident_commander", assignee="U0X", actor="U0ERIN", incident=incident, policy=PEOPLE, directory=known
    )
    with pytest.raises(UserError, match="Only the Incident Commander or <@U0DAVE> or <@U0CAROL> may change severity"):
        require(Act.SEVERITY, actor="U0BOB", incident=incident, policy=PEOPLE, directory=known)


def test_an_address_nobody_has_grants_nothing_and_is_shown_as_written() -> None:
    incident = an_incident(roles={"incident_commander": "U0IC"})
    nobody = Directory()
    assert not may(Act.SEVERITY, actor="U0DAVE", incident=incident, policy=PEOPLE, directory=nobody)
    assert not may(Act.RESOLVE, actor="U0ERIN", incident=incident, policy=PEOPLE, directory=nobody)
    with pytest.raises(UserError, match=re.escape("dave@example.com")):
        require(Act.SEVERITY, actor="U0BOB", incident=incident, policy=PEOPLE, directory=nobody)
