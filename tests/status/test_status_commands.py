"""Publishing from Slack, read without Slack: `/incident update --public …` parsed, and the update and
resolve forms' status page part (built valid for Block Kit, only for incidents that can be published,
and read back into the wording to publish or the errors beside its fields)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import UsageError
from bot.domain.incidents import HERE, Target
from bot.domain.policy import Policy
from bot.domain.status_page import PublicWording
from bot.entrypoints.command_parser import parse_command
from bot.entrypoints.command_types import PostUpdate
from bot.entrypoints.commands import _opens_a_modal
from bot.entrypoints.modals import read_public_wording
from bot.slack.blocks.forms import PUBLIC_TEXT_BLOCK, PUBLIC_TITLE_BLOCK, PUBLISH_BLOCK, resolve_modal, update_modal
from tests.slack_double.blockkit import validate_view
from tests.values import an_incident


def test_update_public_takes_the_rest_as_the_words_customers_read() -> None:
    parsed = parse_command("update --public We are investigating errors at checkout.", Policy())
    assert parsed == PostUpdate(None, HERE, public="We are investigating errors at checkout.")
    assert not _opens_a_modal(parsed)  # it posts at once, no form


def test_update_public_may_name_the_incident_and_a_quoted_public_title() -> None:
    parsed = parse_command('update INC-42 --public --title "Checkout is slow" Payments take a minute.', Policy())
    assert parsed == PostUpdate(
        None, Target(number=42), public="Payments take a minute.", public_title="Checkout is slow"
    )
    curly = parse_command("update --public --title “Slow & steady” Fine now.", Policy())
    assert isinstance(curly, PostUpdate) and curly.public_title == "Slow & steady"


def test_slack_escaped_public_words_are_read_as_typed() -> None:
    parsed = parse_command("update --public &lt;script&gt;alert(1)&lt;/script&gt; &amp; more", Policy())
    assert isinstance(parsed, PostUpdate) and parsed.public == "<script>alert(1)</script> & more"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("update --public", "customers should read"),
        ("update --public   ", "customers should read"),
        ('update --public --title "Only a title"', "customers should read"),
        ("update --public --title Unquoted words", "in quotes"),
    ],
)
def test_update_public_without_words_or_with_an_unquoted_title_is_refused(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse_command(text, Policy())


def test_a_plain_update_is_unchanged() -> None:
    assert parse_command("update Rolled back", Policy()) == PostUpdate("Rolled back", HERE)
    assert _opens_a_modal(parse_command("update", Policy()))


def test_the_update_form_offers_the_status_page_only_for_an_incident_that_can_be_published() -> None:
    public = update_modal(an_incident(), next_at=None)
    assert validate_view(public) == []
    blocks = {b.get("block_id") for b in public["blocks"]}
    assert {PUBLISH_BLOCK, PUBLIC_TITLE_BLOCK, PUBLIC_TEXT_BLOCK} <= blocks
    private = update_modal(an_incident(private=True), next_at=None)
    assert {PUBLISH_BLOCK, PUBLIC_TITLE_BLOCK, PUBLIC_TEXT_BLOCK}.isdisjoint(
        b.get("block_id") for b in private["blocks"]
    )
    resolve = resolve_modal(an_incident())
    assert validate_view(resolve) == [] and PUBLIC_TEXT_BLOCK in {b.get("block_id") for b in resolve["blocks"]}
    assert PUBLIC_TEXT_BLOCK not in {b.get("block_id") for b in resolve_modal(an_incident(private=True))["blocks"]}


def form(*, ticked: bool, text: str = "", title: str = "") -> dict[str, Any]:
    options = [{"value": "publish"}] if ticked else []
    return {
        PUBLISH_BLOCK: {"value": {"type": "checkboxes", "selected_options": options}},
        PUBLIC_TITLE_BLOCK: {"value": {"type": "plain_text_input", "value": title or None}},
        PUBLIC_TEXT_BLOCK: {"value": {"type": "plain_text_input", "value": text or None}},
    }


def test_the_form_s_status_page_part_reads_into_the_wording_or_errors_beside_its_fields() -> None:
    assert read_public_wording(form(ticked=True, text=" We are on it ", title="Slow")) == PublicWording(
        "We are on it", "Slow"
    )
    assert read_public_wording(form(ticked=False)) is None
    assert read_public_wording({}) is None  # a private incident's form has none of it
    assert set(read_public_wording(form(ticked=True)) or {}) == {PUBLIC_TEXT_BLOCK}  # type: ignore[arg-type]
    assert set(read_public_wording(form(ticked=False, text="words")) or {}) == {PUBLISH_BLOCK}  # type: ignore[arg-type]
