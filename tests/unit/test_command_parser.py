"""Parsing `/incident …`."""

import pytest

from bot.command_parser import Declare, Help, ListOpen, NotYetAvailable, parse_command
from bot.errors import UsageError
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
    parsed = parse_command("resolve all good", POLICY)
    assert isinstance(parsed, NotYetAvailable) and parsed.subcommand.name == "resolve"


def test_custom_severity_names_from_the_policy_are_accepted() -> None:
    policy = Policy.model_validate(
        {"severities": [{"name": "Critical"}, {"name": "Minor"}], "default_severity": "Minor"}
    )
    assert parse_command("declare critical Everything", policy) == Declare("Everything", "Critical")
