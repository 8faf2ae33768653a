"""ALERTS_TOKEN: a weak one (the Kubernetes Secret's placeholder, say) stops start-up with one line naming
the variable and never its value; a previous token may be kept while rotating."""

from __future__ import annotations

import pytest

from bot.domain.errors import ConfigError
from bot.settings import Settings, load_settings

GOOD = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s3cret", "_env_file": None}
STRONG = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # openssl rand -hex 32


@pytest.mark.parametrize(
    "weak",
    [
        "replace-me",  # deploy/kubernetes/secret.yaml's placeholder
        "Sh0rt-but-mixed-Token-31-chars!",  # 31 characters
        "a" * 64,  # one kind: lowercase
        "0123456789" * 4,  # one kind: digits
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH",  # one kind: uppercase
    ],
)
@pytest.mark.parametrize("variable", ["alerts_token", "alerts_token_previous"])
def test_a_weak_token_is_one_line_naming_the_variable_never_the_value(variable: str, weak: str) -> None:
    extra = {"alerts_token": STRONG} if variable == "alerts_token_previous" else {}
    with pytest.raises(ConfigError) as caught:
        load_settings(Settings, **GOOD, **extra, **{variable: weak})
    message = str(caught.value)
    assert message.startswith(f"{variable.upper()} is invalid: too weak; use at least 32 characters")
    assert weak not in message and "\n" not in message


@pytest.mark.parametrize(
    "strong", [STRONG, "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6", "9xYz+/Q2mN8pL4kR7tV1wB6cD3fG5hJ0aS2eU9iO="]
)
def test_a_strong_token_is_taken(strong: str) -> None:
    settings = load_settings(Settings, **GOOD, alerts_token=strong)
    assert [t.get_secret_value() for t in settings.alert_tokens] == [strong]
    assert settings.describe()["ALERTS_TOKEN"] == "set" and strong not in str(settings.describe())


def test_both_tokens_are_accepted_while_rotating_and_neither_is_shown() -> None:
    previous = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"
    settings = load_settings(Settings, **GOOD, alerts_token=STRONG, alerts_token_previous=previous)
    assert [t.get_secret_value() for t in settings.alert_tokens] == [STRONG, previous]
    described = settings.describe()
    assert described["ALERTS_TOKEN_PREVIOUS"] == "set" and previous not in str(described)


def test_a_previous_token_without_a_current_one_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^ALERTS_TOKEN_PREVIOUS is set but ALERTS_TOKEN is not"):
        load_settings(Settings, **GOOD, alerts_token_previous=STRONG)


def test_no_token_refuses_every_alert_and_a_blank_one_is_no_token() -> None:
    assert load_settings(Settings, **GOOD).alert_tokens == []
    assert load_settings(Settings, **GOOD, alerts_token="", alerts_token_previous="").alert_tokens == []
