"""Outside text made inert for Slack: mentions, links and URLs."""

from __future__ import annotations

import pytest

from bot.slack.mrkdwn import is_user_id, link, mention, safe_url


@pytest.mark.parametrize("url", ["https://grafana.example.com/d/abc?x=1&y=2", "http://10.0.0.1:9090/graph"])
def test_plain_http_urls_are_kept(url: str) -> None:
    assert safe_url(url) == url
    assert link(url, "source") == f"<{url}|source>"


@pytest.mark.parametrize(
    "url",
    [
        "http://a> <!channel> <http://b",
        "javascript:alert(1)",
        "http://a|<!here>",
        "https://example.com/with space",
        "mailto:x@example.com",
        "https://" + "a" * 2000,
        None,
        42,
    ],
)
def test_urls_that_could_break_out_of_a_link_are_dropped(url: object) -> None:
    assert safe_url(url) is None
    assert link(url if isinstance(url, str) else None, "<!channel>") == "&lt;!channel&gt;"


def test_only_user_ids_become_mentions() -> None:
    assert mention("U0ALICE") == "<@U0ALICE>" and is_user_id("W123")
    assert mention("<!channel>") == "&lt;!channel&gt;" and not is_user_id("<!channel>")
    assert mention(None) == "_unassigned_"
    assert not is_user_id("U0alice") and not is_user_id(["U1"])
