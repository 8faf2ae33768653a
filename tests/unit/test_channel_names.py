"""Incident channel names are always valid Slack names and stay readable."""

import pytest

from bot.domain.channel_names import MAX_CHANNEL_NAME, channel_name, is_valid_channel_name, slugify


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Checkout errors", "inc-7-checkout-errors"),
        ("  API: 500s on /v2/orders!! ", "inc-7-api-500s-on-v2-orders"),
        ("Überweisungen schlagen fehl", "inc-7-uberweisungen-schlagen-fehl"),
        ("🔥 DB on fire", "inc-7-fire-db-on-fire"),
        ("支付失败", "inc-7-zhifushibai"),
        ("!!!", "inc-7"),
        ("UPPER_case snake_name", "inc-7-upper-case-snake-name"),
    ],
)
def test_titles_become_readable_valid_names(title: str, expected: str) -> None:
    assert channel_name("inc", 7, title) == expected
    assert is_valid_channel_name(expected)


def test_long_titles_are_cut_on_a_word_within_80_characters_with_room_for_a_suffix() -> None:
    title = "the payment service is returning intermittent errors for customers in every region " * 3
    first = channel_name("incident", 123456, title)
    fifth = channel_name("incident", 123456, title, attempt=5)
    assert len(first) <= MAX_CHANNEL_NAME and len(fifth) <= MAX_CHANNEL_NAME
    assert fifth == first + "-5"
    assert not first.endswith("-") and is_valid_channel_name(first)
    assert first.split("-")[-1] in title.split()


def test_a_suffix_is_added_only_after_the_first_attempt() -> None:
    assert channel_name("inc", 1, "db") == "inc-1-db"
    assert channel_name("inc", 1, "db", attempt=2) == "inc-1-db-2"


def test_slugs_never_contain_characters_slack_refuses() -> None:
    for title in ["<!everyone>", "a\tb\nc", "x" * 500, "日本語のタイトル", "Ωmega ∑ sum", "emoji 👩‍💻 zwj"]:
        name = channel_name("inc", 99, title)
        assert is_valid_channel_name(name), name
        assert slugify(title) == slugify(title).strip("-")
