"""Alert notices in a storm: the first few to a channel are posts of their own, the rest one digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.notice_digests import (
    DIGEST_MAX_AGE,
    DIGEST_QUIET,
    DIGEST_TITLES,
    STORM_THRESHOLD,
    STORM_WINDOW,
    AlertNotice,
    ChannelNotices,
    NoticeDigest,
    Placement,
)
from bot.domain.policy import Policy
from bot.slack import blocks

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def notice(n: int, severity: str = "SEV2", service: str | None = "checkout") -> AlertNotice:
    return AlertNotice(f"Checkout problem {n}", severity, service, "payments", f"https://am.example/{n}")


def test_the_first_few_notices_within_the_window_are_posts_of_their_own_then_one_digest() -> None:
    channel = ChannelNotices()
    alone = [channel.place(notice(n), T0 + timedelta(seconds=n)) for n in range(STORM_THRESHOLD)]
    assert alone == [Placement()] * STORM_THRESHOLD
    opened = channel.place(notice(3), T0 + timedelta(seconds=3))
    assert opened.opened and opened.digest is not None
    joined = [channel.place(notice(n), T0 + timedelta(seconds=n)) for n in range(4, 30)]
    assert all(p.digest is opened.digest and not p.opened for p in joined)
    assert opened.digest.total == 27 and opened.digest.unnamed == 27 - DIGEST_TITLES
    assert [n.title for n in opened.digest.first] == [f"Checkout problem {n}" for n in range(3, 3 + DIGEST_TITLES)]


def test_notices_spread_out_in_time_stay_posts_of_their_own() -> None:
    channel = ChannelNotices()
    spacing = STORM_WINDOW / (STORM_THRESHOLD - 1)  # never STORM_THRESHOLD within one window
    placed = [channel.place(notice(n), T0 + n * spacing) for n in range(20)]
    assert all(p.digest is None for p in placed)


def test_a_digest_nothing_joined_for_a_while_is_done_and_the_next_storm_starts_afresh() -> None:
    channel = ChannelNotices()
    for n in range(STORM_THRESHOLD + 2):
        last = channel.place(notice(n), T0)
    first_digest = last.digest
    assert first_digest is not None and first_digest.total == 2
    later = T0 + DIGEST_QUIET
    again = [channel.place(notice(n), later) for n in range(STORM_THRESHOLD + 1)]
    assert [p.digest is None for p in again] == [True] * STORM_THRESHOLD + [False]
    assert again[-1].opened and again[-1].digest is not first_digest


def test_a_storm_that_goes_on_gets_a_new_digest_every_so_often() -> None:
    channel = ChannelNotices()
    when = T0
    digests: list[NoticeDigest] = []
    alone = 0
    while when < T0 + 2 * DIGEST_MAX_AGE + timedelta(minutes=1):
        placed = channel.place(notice(0), when)
        alone += placed.digest is None
        if placed.opened and placed.digest is not None:
            digests.append(placed.digest)
        when += timedelta(seconds=10)
    assert alone == STORM_THRESHOLD
    assert len(digests) == 3  # a new one each hour, straight after the last (no posts of their own between)
    assert all(d.last_at - d.opened_at < DIGEST_MAX_AGE for d in digests)


def test_a_digest_that_could_not_be_posted_is_replaced_by_the_next_notice() -> None:
    channel = ChannelNotices()
    for n in range(STORM_THRESHOLD + 1):
        placed = channel.place(notice(n), T0)
    assert placed.digest is not None
    channel.drop(placed.digest)
    retried = channel.place(notice(9), T0)
    assert retried.opened and retried.digest is not placed.digest


def test_the_digest_counts_by_severity_in_the_policys_order_and_by_service_most_first() -> None:
    digest = NoticeDigest(opened_at=T0, last_at=T0)
    for n, (severity, service) in enumerate(
        [("SEV3", "search"), ("SEV1", "checkout"), ("SEV3", None), ("SEV1", "checkout"), ("SEV2", "checkout")] * 3
    ):
        digest.add(notice(n, severity, service), T0 + timedelta(seconds=n))
    text, body = blocks.alert_digest(digest, Policy())
    shown = "\n".join(b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in body)
    assert "*Alert storm: 15 more alert groups fired*" in shown
    assert "*By severity:* SEV1 6 · SEV2 3 · SEV3 6" in shown
    assert "*By service:* checkout 9 · search 3 · _no service_ 3" in shown
    assert "• Checkout problem 0 · *SEV3* · paging `payments` · <https://am.example/0|source>" in shown
    assert "Checkout problem 5" not in shown and "… and 10 more." in shown
    assert text.startswith(":bell: Alert storm: 15 more alert groups fired.") and "Checkout problem 4" in text


def test_a_digest_of_many_services_names_the_busiest_and_sums_the_rest() -> None:
    digest = NoticeDigest(opened_at=T0, last_at=T0)
    for n in range(30):
        digest.add(notice(n, service=f"svc{n % 12}"), T0)
    counts = blocks.alert_digest(digest, Policy())[1][1]["text"]["text"]
    assert counts.endswith("· 4 other services 8")  # svc8..svc11, two each; svc0..svc5 have three
