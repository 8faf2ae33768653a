"""Parsing `/incident …`."""

import re

import pytest

from bot.command_parser import (
    AddNote,
    AssignRole,
    ChangeSeverity,
    ChangeStatus,
    Declare,
    Help,
    ListOpen,
    NotYetAvailable,
    PostUpdate,
    Reopen,
    Resolve,
    ShowTimeline,
    Target,
    parse_command,
)
from bot.errors import UsageError, UserError
from bot.incidents import Status
from bot.policy import Policy

POLICY = Policy()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declare sev2 Checkout errors", Declare("Checkout errors", "SEV2")),
        ("declare SEV1 DB down", Declare("DB down", "SEV1")),
        ("DECLARE sev-3 slow search", Declare("slow search", "SEV3")),
        ("declare Checkout errors", Declare("Checkout errors", None)),
        ("declare 3 hosts down", Declare("3 hosts down", None)),
        ("declare", Declare(None, None)),
        ("declare sev1", Declare(None, "SEV1")),
        ("", Help()),
        ("help", Help()),
        ("list", ListOpen()),
    ],
)
def test_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text, POLICY) == expected


def test_a_severity_the_policy_lacks_is_refused_with_the_choices() -> None:
    with pytest.raises(UsageError, match="SEV1, SEV2, SEV3, SEV4"):
        parse_command("declare sev9 Broken", POLICY)


def test_unknown_subcommands_are_refused_with_a_pointer_to_help() -> None:
    with pytest.raises(UsageError) as caught:
        parse_command("explode now", POLICY)
    assert caught.value.usage == "/incident help"


def test_list_takes_no_arguments() -> None:
    with pytest.raises(UsageError):
        parse_command("list everything", POLICY)


def test_contract_subcommands_not_built_yet_say_so() -> None:
    parsed = parse_command("stats 30d", POLICY)
    assert isinstance(parsed, NotYetAvailable) and parsed.subcommand.name == "stats"


def test_custom_severity_names_from_the_policy_are_accepted() -> None:
    policy = Policy.model_validate(
        {"severities": [{"name": "Critical"}, {"name": "Minor"}], "default_severity": "Minor"}
    )
    assert parse_command("declare critical Everything", policy) == Declare("Everything", "Critical")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ic <@U0BOB|bob>", AssignRole("incident_commander", "U0BOB")),
        ("comms <@U0CAROL>", AssignRole("comms_lead", "U0CAROL")),
        ("role scribe <@U0DAVE|dave>", AssignRole("scribe", "U0DAVE")),
        ("role Tech-Lead <@U0DAVE|dave>", AssignRole("tech_lead", "U0DAVE")),
        ("ic INC-42 <@U0BOB|bob>", AssignRole("incident_commander", "U0BOB", Target(number=42))),
        ("sev 1 customers cannot pay", ChangeSeverity("SEV1", "customers cannot pay")),
        ("sev sev2", ChangeSeverity("SEV2", "")),
        ("sev <#C0INC|inc-7-x> 3 it's contained", ChangeSeverity("SEV3", "it's contained", Target(channel_id="C0INC"))),
        ("status identified", ChangeStatus(Status.IDENTIFIED)),
        ("status Monitoring", ChangeStatus(Status.MONITORING)),
        ("status resolved", Resolve("")),
        ("update DB failover done &amp; &lt;b&gt;", PostUpdate("DB failover done & <b>")),
        ("update", PostUpdate(None)),
        ("note rolled back 1.2.3 cc <@U0BOB|bob>", AddNote("rolled back 1.2.3 cc @bob")),
        ("resolve fixed by rollback", Resolve("fixed by rollback")),
        ("resolve", Resolve(None)),
        ("reopen errors are back", Reopen("errors are back")),
        ("timeline", ShowTimeline(1)),
        ("timeline inc-3 2", ShowTimeline(2, Target(number=3))),
    ],
)
def test_incident_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text, POLICY) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ic bob", "Mention one person"),
        ("ic <@U0BOB|bob> <@U0CAROL|carol>", "Mention one person"),
        ("role janitor <@U0BOB|bob>", "“janitor” isn't a role; use one of ic, comms, tech, scribe."),
        ("role scribe", "Name the role and the person."),
        ("sev 9", "Name a severity: one of SEV1, SEV2, SEV3, SEV4."),
        ("sev", "Name a severity"),
        ("status fixed", "“fixed” isn't a status"),
        ("note", "Write the note after `note`."),
        ("timeline last", "The page is a number."),
    ],
)
def test_bad_incident_commands_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        parse_command(text, POLICY)
