"""Parsing `/incident …`."""

import dataclasses
import re
from datetime import date

import pytest

from bot.domain.errors import UsageError, UserError
from bot.domain.incidents import Status, Target
from bot.domain.policy import Policy
from bot.entrypoints.command_parser import parse_command
from bot.entrypoints.command_types import (
    AddFollowUp,
    AddNote,
    AssignRole,
    ChangeSeverity,
    ChangeStatus,
    ChangeVisibility,
    Declare,
    Help,
    ListFollowUps,
    ListOpen,
    PostUpdate,
    Reopen,
    Resolve,
    ShowStats,
    ShowSummary,
    ShowTimeline,
)

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
        ("declare --private sev1 Leaked keys", Declare("Leaked keys", "SEV1", private=True)),
        ("declare --private", Declare(None, None, private=True)),
        ("declare private payroll data exposed", Declare("payroll data exposed", None, private=True)),
        ("summary", ShowSummary(share=False)),
        ("summary INC-4 --share", ShowSummary(share=True, target=Target(number=4))),
        ("public", ChangeVisibility(private=False)),
        ("private INC-2", ChangeVisibility(private=True, target=Target(number=2))),
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


def test_a_follow_up_takes_its_owner_and_due_date_from_the_end_in_either_order() -> None:
    expected = AddFollowUp("Add a pool alert", "U0BOB", date(2026, 12, 1))
    assert parse_command("followup Add a pool alert <@U0BOB|bob> due 2026-12-01", POLICY) == expected
    assert parse_command("followup Add a pool alert due 2026-12-01 <@U0BOB|bob>", POLICY) == expected
    # "due" inside the text is text; the incident can be named first.
    assert parse_command("followup INC-3 Fix the due date check", POLICY) == AddFollowUp(
        "Fix the due date check", None, None, Target(number=3)
    )


def test_a_follow_up_needs_text_and_a_real_date() -> None:
    for text in ("followup", "followup <@U0BOB|bob> due 2026-12-01", "followup Fix it due 2026-02-30"):
        with pytest.raises(UsageError):
            parse_command(text, POLICY)


def test_followups_lists_mine_open_or_one_incident() -> None:
    assert parse_command("followups mine", POLICY) == ListFollowUps("mine")
    assert parse_command("followups open", POLICY) == ListFollowUps("open")
    assert parse_command("followups INC-4", POLICY) == ListFollowUps("incident", Target(number=4))
    assert parse_command("followups", POLICY) == ListFollowUps("incident")
    with pytest.raises(UsageError):
        parse_command("followups everything", POLICY)


def test_stats_windows_and_sharing() -> None:
    assert parse_command("stats", POLICY) == ShowStats(30, False)
    assert parse_command("stats 90d --share", POLICY) == ShowStats(90, True)
    assert parse_command("stats all", POLICY) == ShowStats(None, False)
    with pytest.raises(UsageError):
        parse_command("stats 7d", POLICY)


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


@pytest.mark.parametrize(
    "text",
    [
        "page &lt;!channel&gt; &amp; <!here>",  # Slack's escaping of a typed `<!channel> & ` and a real @here
        "oncall &lt;@U0BOB&gt;",
        "frob&lt;!everyone&gt;nicate now",
        "&lt;!channel&gt;",
        "role &lt;!here&gt; <@U0BOB|bob>",
        "status &lt;!channel&gt;",
    ],
)
def test_typed_text_quoted_back_in_a_refusal_is_inert(text: str) -> None:
    policy = Policy.model_validate({"services": {"checkout": {}}})
    with pytest.raises(UserError) as caught:
        parse_command(text, policy)
    message = str(caught.value)
    assert "<" not in message and ">" not in message, message  # no broadcast, mention or link can form
    assert "&lt;" in message or "@here" in message  # quoted back, readable


def test_every_command_the_parser_builds_has_exactly_one_handler() -> None:
    import typing

    from bot.entrypoints.command_types import Command
    from bot.entrypoints.commands import _IN_AN_INCIDENT, _WORKSPACE

    kinds = set(typing.get_args(Command))
    assert set(_WORKSPACE) | set(_IN_AN_INCIDENT) == kinds
    assert not set(_WORKSPACE) & set(_IN_AN_INCIDENT)
    # Commands handled on an incident are the ones that name one.
    assert all("target" in {field.name for field in dataclasses.fields(kind)} for kind in _IN_AN_INCIDENT)


@pytest.mark.parametrize("text", ["summary now", "public please"])
def test_summary_and_visibility_take_nothing_else(text: str) -> None:
    with pytest.raises(UsageError):
        parse_command(text, POLICY)
