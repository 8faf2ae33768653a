"""Block Kit builders stay within Slack's limits and never let user text ping anyone."""

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.incidents import DetectedVia, Incident, Status
from bot.domain.policy import Policy
from bot.entrypoints.command_types import SUBCOMMANDS
from bot.slack import blocks
from bot.slack.mrkdwn import escape, plain_from_slack, trim
from tests.slack_double.blockkit import validate_blocks, validate_view

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def incident(**changes: object) -> Incident:
    values: dict[str, Any] = {
        "id": 1,
        "team_id": "T1",
        "number": 7,
        "title": "Checkout errors",
        "severity": "SEV2",
        "status": Status.INVESTIGATING,
        "declared_by": "U1",
        "declared_at": NOW - timedelta(minutes=12),
        "channel_id": "C1",
        "roles": {"incident_commander": "U1"},
    }
    values.update(changes)
    return Incident(**values)


def test_escape_neutralises_mentions_and_entities() -> None:
    assert escape("<!everyone> & <@U1>") == "&lt;!everyone&gt; &amp; &lt;@U1&gt;"


def test_slack_markup_in_input_becomes_plain_text() -> None:
    typed = "DB &amp; cache down, cc <@U123|bob> <!here> in <#C9|ops> see <https://x.io|the dash>"
    assert plain_from_slack(typed) == "DB & cache down, cc @bob @here in #ops see the dash"
    assert plain_from_slack("a &amp;lt;b&amp;gt;") == "a &lt;b&gt;"  # decoded once, not twice


def test_trim_says_it_trimmed() -> None:
    trimmed = trim("x" * 5000, 3000)
    assert len(trimmed) == 3000 and trimmed.endswith("(trimmed)")
    assert trim("short", 3000) == "short"


def test_the_header_is_valid_block_kit_even_with_huge_text() -> None:
    big = incident(title="T" * 120, description="<!channel> " + "d" * 10_000, detected_via=DetectedVia.CUSTOMER)
    _, body = blocks.header_message(big, Policy(), now=NOW)
    assert validate_blocks(body) == []
    impact = next(b for b in body if b["type"] == "section" and "text" in b)
    assert impact["text"]["text"].endswith("(trimmed)")
    assert "<!channel>" not in impact["text"]["text"]
    assert {"type": "mrkdwn", "text": "*Duration*\n12m so far"} in body[1]["fields"]


def test_the_header_shows_the_roles_and_severity() -> None:
    _, body = blocks.header_message(incident(), Policy(), now=NOW)
    fields = " ".join(f["text"] for f in body[1]["fields"])
    assert "<@U1>" in fields and "SEV2" in fields and "_unassigned_" in fields


def test_the_declare_modal_is_a_valid_view() -> None:
    view = blocks.declare_modal(Policy(), origin_channel="C1", severity="SEV1")
    assert validate_view(view) == []
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "SEV1"


def test_help_gives_usage_of_every_subcommand() -> None:
    text, body = blocks.help_message(SUBCOMMANDS)
    assert validate_blocks(body) == []
    declare = "declare [--private] [--type &lt;type&gt;] [sev1-4] &lt;title&gt; [field=value…]`"
    assert f"{declare} — declare an incident (no title: open the form)\n" in text
    stats = "`/incident stats [30d|90d|all] [type=&lt;type&gt;] [--share]`"
    assert f"{stats} — MTTD, MTTA, MTTR by severity and friends\n" in text
    assert "not yet available" not in text
    assert "`/incident page @user|&lt;service&gt;` — page someone or a service's on-call\n" in text
    assert "`/incident resolve [summary]` — resolve (no summary: open the form)\n" in text


def test_a_long_list_stays_within_fifty_blocks_and_says_how_many_more() -> None:
    many = [incident(id=n, number=n) for n in range(1, 81)]
    _, body = blocks.open_incidents(many, now=NOW)
    assert validate_blocks(body) == []
    assert "and 32 more" in str(body[-1])


def test_topic_fits_slacks_limit() -> None:
    assert len(blocks.topic(incident(severity="X" * 400))) <= 250
