"""A person's contact book in Slack: the reply to `/incident oncall contact`, the test's results and the
App Home section. Addresses are shown in full only here, to their owner or to an admin who asked (replies
are private, App Home is the viewer's own); anywhere else they are masked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.contact_addresses import method_name
from bot.domain.contact_book import RULES_YOURS, Book, TrialResult
from bot.domain.contact_rules import rule_text
from bot.slack.blocks.primitives import button, context, section
from bot.slack.mrkdwn import escape

TEST_ACTION = "contacts.test"
THEIRS = {RULES_YOURS: "their own"}  # whose rules, said to an admin looking at someone else's
USAGE = escape(
    "`/incident oncall contact add <method> <address>` · `… contact verify <method> <code>` · "
    "`… contact remove <method>` · `… contact rules <method>@<delay>[:<severity>] …` · `/incident oncall test`"
)


def _entries(book: Book, owner: str | None = None) -> str:
    if not book.entries:
        return "Only Slack DMs: " + ("they have" if owner else "you have") + " no other way to be reached."
    return "\n".join(f"• {method_name(e.method)}: `{escape(e.address)}` ({e.state})" for e in book.entries)


def _rules(book: Book) -> str:
    if not book.rules:
        return "none"
    return " → ".join(f"`{escape(rule_text(r))}`" for r in book.rules)


def book_reply(book: Book, *, owner: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The reply to `/incident oncall contact` (only to its owner), or to `… contact @owner` (only to the
    admin who asked)."""
    methods = ", ".join(method_name(m) for m in book.available) or "none beyond Slack"
    if owner is None:
        entries = f"*How pages reach you*\n{_entries(book)}"
        rules = f"*Your rules* ({book.rules_source}): {_rules(book)}"
        footer = f"Set up here: {escape(methods)}. {USAGE}"
    else:
        source = THEIRS.get(book.rules_source, book.rules_source)
        entries = f"*How pages reach <@{owner}>*\n{_entries(book, owner)}"
        rules = f"*Their rules* ({source}): {_rules(book)}"
        footer = "Shown only to you, because you are a Tocsin admin: please keep these to yourself."
    blocks = [section(entries), section(rules), context(footer)]
    return f"{entries}\n{rules}", blocks


def test_reply(results: Sequence[TrialResult]) -> str:
    """What a test through each method did."""
    if not results:
        return (
            "You have no verified method beyond Slack to test: "
            "`/incident oncall contact add &lt;method&gt; &lt;address&gt;`."
        )
    lines = [
        f"• {method_name(r.method)} ({escape(r.masked)}): "
        + ("sent :white_check_mark:" if r.error is None else f"failed: {escape(r.error)} :x:")
        for r in results
    ]
    return "*Test notifications*\n" + "\n".join(lines)


def home_section(book: Book) -> list[dict[str, Any]]:
    """The viewer's own part of App Home: their methods, their rules, and a button to test them."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "How pages reach you"}},
        section(_entries(book)),
        section(f"*Rules* ({book.rules_source}): {_rules(book)}"),
        {"type": "actions", "elements": [button("Send a test", TEST_ACTION, "test")]},
        context(USAGE),
    ]
