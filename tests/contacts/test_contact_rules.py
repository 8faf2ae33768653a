"""A person's contact rules, pure: which attempts they give for a severity inside a turn, how rules are
written, how addresses are checked and masked, and what the policy's `people` may not say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.contact_addresses import check_address, mask
from bot.domain.contact_policy import ContactRule
from bot.domain.contact_rules import attempts_for, default_rules, digest, new_code, parse_rule, rule_text, same_code
from bot.domain.policy import Policy

START = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4"]
ADDRESSES = {"ntfy": "alice-pager", "voice": "+447700900123", "sms": "+447700900123"}


def rules(*written: str) -> list[ContactRule]:
    return [parse_rule(w, SEVERITIES) for w in written]


def test_rules_give_attempts_in_order_of_their_delay_inside_the_turn() -> None:
    planned = attempts_for(
        rules("voice@3m", "slack@0s", "ntfy@1m"),
        ADDRESSES,
        severity="SEV1",
        rank=Policy().rank,
        usable={"slack", "ntfy", "voice"},
        turn_start=START,
    )
    assert [(a.n, a.method, a.due_at - START) for a in planned] == [
        (1, "ntfy", timedelta(minutes=1)),
        (2, "voice", timedelta(minutes=3)),
    ]


def test_a_sev3_never_phones_when_the_call_is_for_sev2_and_above() -> None:
    given = rules("ntfy@0s", "voice@3m:SEV2")
    sev3 = attempts_for(
        given, ADDRESSES, severity="SEV3", rank=Policy().rank, usable={"ntfy", "voice"}, turn_start=START
    )
    sev2 = attempts_for(
        given, ADDRESSES, severity="SEV2", rank=Policy().rank, usable={"ntfy", "voice"}, turn_start=START
    )
    assert [a.method for a in sev3] == ["ntfy"] and [a.method for a in sev2] == ["ntfy", "voice"]


def test_a_method_without_an_address_or_not_set_up_is_left_out() -> None:
    planned = attempts_for(
        rules("email@0s", "sms@1m", "ntfy@2m"), ADDRESSES, severity="SEV1", rank=Policy().rank, usable={"ntfy"},
        turn_start=START,
    )  # fmt: skip
    assert [a.method for a in planned] == ["ntfy"]


def test_rules_are_written_method_at_delay_colon_severity() -> None:
    assert [rule_text(r) for r in rules("slack", "ntfy@1m", "voice@3m:sev1", "sms@90s:2")] == [
        "slack@0s", "ntfy@1m", "voice@3m:SEV1", "sms@1m30s:SEV2",
    ]  # fmt: skip
    for bad in ("pager@1m", "ntfy@soon", "voice@3m:SEV9", "@1m"):
        with pytest.raises(ValueError):
            parse_rule(bad, SEVERITIES)


def test_without_rules_each_method_is_tried_in_turn() -> None:
    assert [rule_text(r) for r in default_rules({"voice": "+447700900123", "ntfy": "t"})] == [
        "slack@0s", "ntfy@1m", "voice@3m",
    ]  # fmt: skip


def test_addresses_are_checked_and_masked() -> None:
    assert check_address("sms", "+44 (7700) 900-123") == "+447700900123"
    assert mask("sms", "+447700900123") == "+44•••••••123"
    assert mask("email", "alice@example.com") == "a•••@example.com"
    assert mask("pushover", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG") == "uQ•••sG"
    assert "alice-pager" not in mask("ntfy", "alice-pager")
    for method, bad in (("sms", "07700 900123"), ("email", "not-an-address"), ("ntfy", "a/b"), ("pushover", "x")):
        with pytest.raises(ValueError):
            check_address(method, bad)


def test_codes_and_tokens_are_kept_as_digests() -> None:
    code = new_code()
    assert len(code) == 6 and code.isdigit()
    assert same_code(code, digest(code)) and not same_code("x" + code, digest(code))


def test_the_policy_refuses_people_whose_rules_or_addresses_cannot_work() -> None:
    with pytest.raises(ValueError) as refused:
        Policy.model_validate(
            {
                "people": {
                    "U0ALICE": {
                        "contacts": {"sms": "0770090012"},
                        "rules": [{"method": "voice", "after": "3m", "min_severity": "SEV9"}],
                    }
                }
            }
        )
    said = str(refused.value)
    assert "people.U0ALICE.contacts.sms: a phone number is written in international form" in said
    assert "people.U0ALICE.rules[0]: voice needs contact_methods.twilio" in said
    assert "people.U0ALICE.rules[0].min_severity: 'SEV9' is not a severity" in said
    fine = {
        "contact_methods": {"twilio": {"from": "+15005550006"}},
        "people": {"bob@example.com": {"contacts": {"voice": "+447700900123"}, "rules": [{"method": "voice"}]}},
    }
    assert Policy.model_validate(fine).people["bob@example.com"].rules[0].method == "voice"
