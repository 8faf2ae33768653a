"""API tokens' pure parts: scopes as typed on the command line, token names, secrets and their hashes, and
what a principal may do."""

from __future__ import annotations

import hashlib

import pytest

from bot.domain.api_tokens import (
    SCOPES,
    Principal,
    Scope,
    check_token_name,
    hash_secret,
    known_scopes,
    new_secret,
    parse_scopes,
    plausible_secret,
    scope_list,
)
from bot.domain.errors import UserError


def test_the_scopes_are_the_documented_five() -> None:
    assert [scope.value for scope in Scope] == [
        "incidents:read",
        "incidents:write",
        "follow-ups:write",
        "private:read",
        "events:read",
    ]


def test_scopes_are_read_from_a_comma_separated_list_with_spaces_and_repeats() -> None:
    assert parse_scopes("incidents:read, events:read,incidents:read") == {Scope.INCIDENTS_READ, Scope.EVENTS_READ}
    assert parse_scopes(["private:read"]) == {Scope.PRIVATE_READ}


@pytest.mark.parametrize("text", ["incidents:reed", "incidents:read,admin", "INCIDENTS:READ"])
def test_an_unknown_scope_is_refused_naming_every_valid_one(text: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_scopes(text)
    assert "unknown scope" in str(refused.value) and str(refused.value).endswith(SCOPES)
    assert all(scope.value in str(refused.value) for scope in Scope)


@pytest.mark.parametrize("text", ["", " , ", []])
def test_no_scope_at_all_is_refused(text: str | list[str]) -> None:
    with pytest.raises(UserError, match="at least one scope"):
        parse_scopes(text)


def test_stored_scopes_are_written_in_a_fixed_order_and_unknown_ones_read_as_nothing() -> None:
    assert scope_list({Scope.EVENTS_READ, Scope.INCIDENTS_READ}) == "incidents:read,events:read"
    assert known_scopes("events:read,admin:everything") == {Scope.EVENTS_READ}  # a newer version's scope


@pytest.mark.parametrize("name", ["deploy", "ci-bot_2", "a", "x" * 64])
def test_valid_token_names(name: str) -> None:
    assert check_token_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "Deploy", "deploy bot", "ci.bot", "bot/1", "é", "deploy\n"])
def test_invalid_token_names_are_refused_saying_what_is_allowed(name: str) -> None:
    with pytest.raises(UserError, match="1-64 characters of a-z, 0-9, - and _"):
        check_token_name(name)


def test_a_new_secret_is_long_random_and_recognisable() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert secret.startswith("tocsin_") and len(secret) >= 7 + 43
        assert plausible_secret(secret)


def test_the_hash_is_sha256_hex_of_the_secret() -> None:
    assert hash_secret("tocsin_abc") == hashlib.sha256(b"tocsin_abc").hexdigest()
    assert len(hash_secret(new_secret())) == 64


def test_empty_and_absurdly_long_secrets_are_not_worth_a_lookup() -> None:
    assert not plausible_secret("")
    assert not plausible_secret("x" * 10_000)


def test_a_principal_may_only_what_its_scopes_say() -> None:
    reader = Principal("dashboard", frozenset({Scope.INCIDENTS_READ}))
    assert reader.may(Scope.INCIDENTS_READ)
    assert not reader.may(Scope.INCIDENTS_WRITE) and not reader.may(Scope.PRIVATE_READ)
