"""The message shortcuts' pure parts: a title to start from, and the message carried by a form."""

import json

from bot.domain.policy import Policy
from bot.domain.source_message import SourceMessage, reply_thread, suggested_title
from bot.slack.blocks.forms import add_to_timeline_modal, declare_modal, fit_metadata
from tests.builders import an_incident
from tests.slack_double.blockkit import validate_view


def test_the_suggested_title_is_the_first_line_cut_at_a_word() -> None:
    assert suggested_title("\n  Checkout is down \nmore detail") == "Checkout is down"
    long = "The payment service returns 502 for every customer in the EU region since the deploy at 14:02"
    title = suggested_title(long)
    assert title.endswith("…") and len(title) <= 81 and long.startswith(title[:-1])
    assert long[len(title) - 1] == " "  # cut between words
    assert suggested_title("") == ""


def test_a_form_carries_the_message_within_slacks_metadata_limit() -> None:
    message = SourceMessage("C1", "1700000000.000100", "U1", '<>&"' * 2000)
    encoded = fit_metadata({"channel": "C1"}, message)
    assert len(encoded) <= 3000
    back = SourceMessage.from_metadata(json.loads(encoded)["message"])
    assert back is not None and (back.channel_id, back.ts, back.author) == ("C1", "1700000000.000100", "U1")
    assert message.text.startswith(back.text) and back.text


def test_a_reply_keeps_its_thread_through_a_form_and_onto_the_timeline() -> None:
    reply = SourceMessage("C1", "1700000000.000200", "U1", "pool exhausted", thread_ts="1700000000.000100")
    back = SourceMessage.from_metadata(json.loads(fit_metadata({}, reply))["message"])
    assert back == reply
    entry = reply.entry()
    assert entry.thread_ts == "1700000000.000100" and entry.in_thread and entry.source == "C1:1700000000.000200"
    assert reply.thread_root == "1700000000.000100"  # a reply under it goes in its thread, not under it
    message = SourceMessage("C1", "1700000000.000100", "U1", "checkout down")
    assert message.thread_root == message.ts and not message.entry().in_thread


def test_only_a_reply_is_in_a_thread() -> None:
    assert reply_thread("1700000000.000200", "1700000000.000100") == "1700000000.000100"
    assert reply_thread("1700000000.000100", "1700000000.000100") is None  # a thread's parent
    for absent_or_malformed in (None, "", "yesterday", 1700000000.0001):
        assert reply_thread("1700000000.000200", absent_or_malformed) is None


def test_malformed_metadata_carries_no_message() -> None:
    for data in (None, "x", {"channel": "C1", "ts": "not-a-ts", "text": ""}, {"channel": 3, "ts": "1.2", "text": ""}):
        assert SourceMessage.from_metadata(data) is None


def test_the_shortcut_forms_are_valid_block_kit() -> None:
    message = SourceMessage("C1", "1700000000.000100", "U1", "x" * 5000)
    assert validate_view(declare_modal(Policy(), origin_channel="C1", message=message)) == []
    many = [an_incident(id=n, number=n, title="t" * 200) for n in range(1, 150)]
    view = add_to_timeline_modal(many, message)
    assert validate_view(view) == []
    assert len(view["blocks"][1]["element"]["options"]) == 100
