"""Settings and the policy file: defaults, refusals that name the problem, nothing secret printed."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.durations import format_duration, parse_duration
from bot.domain.errors import ConfigError
from bot.domain.policy import Policy
from bot.domain.policy_file import load_policy, parse_policy
from bot.settings import Settings, load_settings

GOOD = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s3cret", "_env_file": None}


def test_a_missing_bot_token_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is not set"):
        load_settings(Settings, _env_file=None, slack_signing_secret="x")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"slack_bot_token": "xoxp-user-token"}, "SLACK_BOT_TOKEN is invalid: must be a bot token"),
        ({"slack_app_token": "xoxb-wrong"}, "SLACK_APP_TOKEN is invalid"),
        ({"port": "eighty"}, "PORT is invalid"),
        ({"database_url": "mysql://x"}, "DATABASE_URL is invalid"),
        ({"database_pool_size": "5"}, "DATABASE_POOL_SIZE is invalid"),
        ({"log_level": "chatty"}, "LOG_LEVEL is invalid"),
        ({"slack_signing_secret": ""}, "SLACK_SIGNING_SECRET is required in HTTP mode"),
    ],
)
def test_malformed_settings_are_one_clear_line(override: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(Settings, **{**GOOD, **override})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = load_settings(Settings, _env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    assert settings.socket_mode


def test_describe_never_shows_secrets() -> None:
    settings = load_settings(
        Settings,
        **GOOD,
        database_url="postgresql://tocsin:hunter2@db:5432/tocsin",
        alerts_token="al3rt-9f86d081884c7d659a2feaa0c55ad015",
    )
    described = str(settings.describe())
    for secret in ("xoxb-1", "s3cret", "hunter2", "al3rt-9f86d081884c7d659a2feaa0c55ad015"):
        assert secret not in described
    assert settings.describe()["DATABASE_URL"] == "postgresql://tocsin:***@db:5432/tocsin"


def test_an_empty_policy_file_is_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yml"
    path.write_text("")
    policy = load_policy(path)
    assert policy == Policy()
    assert policy.channel_prefix == "inc" and policy.broadcast_channel == "#incidents"
    assert policy.first_update_within == timedelta(minutes=15)
    assert [(s.name, s.update_every) for s in policy.severities] == [
        ("SEV1", timedelta(minutes=15)),
        ("SEV2", timedelta(minutes=30)),
        ("SEV3", timedelta(minutes=60)),
        ("SEV4", None),
    ]


def test_the_design_example_policy_is_valid() -> None:
    policy = parse_policy(
        {
            "channel_prefix": "inc",
            "broadcast_channel": None,
            "first_update_within": "45s",
            "schedules": {
                "payments-primary": {
                    "timezone": "Europe/London",
                    "rotation": "weekly",
                    "handoff": "mon 09:00",
                    "users": ["U0000001", "bob@example.com"],
                    "overrides": [{"user": "U0000003", "start": "2026-11-22T00:00:00Z", "end": "2026-11-23T00:00:00Z"}],
                },
                "payments-secondary": {"users": ["U0000002"]},
            },
            "escalation_policies": {
                "payments": {
                    "repeat": 1,
                    "tiers": [
                        {"notify": ["schedule:payments-primary"], "after": "5m"},
                        {"notify": ["schedule:payments-secondary"], "after": "10m"},
                        {"notify": ["group:S0MGMT01", "user:U0000004"], "after": "15m", "min_severity": "SEV1"},
                    ],
                }
            },
            "services": {
                "checkout": {
                    "keywords": ["checkout", "payment", "cart"],
                    "escalation_policy": "payments",
                    "page_on_declare": ["SEV1", "SEV2"],
                    "runbooks": ["database-connection-pool"],
                }
            },
        }
    )
    assert policy.broadcast_channel is None and policy.first_update_within == timedelta(seconds=45)
    assert policy.escalation_policies["payments"].tiers[2].after == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"severities": [{"name": "SEV1", "colour": "red", "urgency": 3}]}, "severities[0].urgency: unknown key"),
        ({"channel_prefx": "inc"}, "channel_prefx: unknown key"),
        ({"channel_prefix": "Inc!"}, "channel_prefix: "),
        ({"first_update_within": "soon"}, "first_update_within: 'soon' is not a duration"),
        ({"default_severity": "SEV9"}, "default_severity: 'SEV9' is not one of"),
        ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not an IANA time zone"),
        (
            {"services": {"checkout": {"escalation_policy": "nope"}}},
            "services.checkout.escalation_policy: unknown escalation policy 'nope'",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["schedule:ghost"]}]}}},
            "escalation_policies.p.tiers[0].notify[0]: unknown schedule 'ghost'",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["schedule:s", "user:carol"]}]}}},
            "escalation_policies.p.tiers[0].notify[1]: 'carol' is not a user",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["user:U1"], "after": "0s"}]}}},
            "escalation_policies.p.tiers[0].after: must be longer than 0s",
        ),
        (
            {"escalation_policies": {"p": {"ack_timeout": "0s", "tiers": [{"notify": ["user:U1"]}]}}},
            "escalation_policies.p.ack_timeout: must be longer than 0s",
        ),
        (
            {"schedules": {"s": {"users": ["U1", "not-an-email@"]}}},
            "schedules.s.users[1]: 'not-an-email@' is not a user",
        ),
        ({"schedules": {"s": {"users": ["@erin"]}}}, "@names are not unique and can change"),
        ({"services": {"checkout": {"owners": ["bob"]}}}, "services.checkout.owners[0]: 'bob' is not a user"),
        ({"permissions": {"resolve": ["admins", "bob"]}}, "permissions.resolve[1]: 'bob' is not a user"),
        (["a", "list"], "the top level must be a mapping"),
    ],
)
def test_policy_errors_name_the_key(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(data, source="tocsin.yml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("tocsin.yml: ")


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yml"
    path.write_text("channel_prefix: inc\nseverities: [\n")
    with pytest.raises(ConfigError, match=r"not valid YAML \(line \d+\)"):
        load_policy(path)


@pytest.mark.parametrize(("text", "seconds"), [("45s", 45), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400)])
def test_durations_round_trip(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("text", ["", "15", "15 minutes", "-5m", "5x"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
