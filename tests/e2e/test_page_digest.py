"""In a storm, the pages one person gets gather in one DM: the first few arrive on their own, the rest join
a digest that is edited as they come; each page is still acknowledged on its own (or all at once) and still
escalates on its own clock."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.page_digests import STORM_THRESHOLD
from bot.domain.policy import Policy
from bot.slack.blocks import PAGE_BLOCK
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_timeline, timers_of
from tests.e2e.test_fast_answers import FAST_POLICY, dm_channel_of, page_dms, told
from tests.slack_double import SlackDouble

PAGES = 10


def digests(double: SlackDouble, user: str) -> list[dict[str, Any]]:
    return [m for m in double.dm_messages(user) if "pages at once" in m["text"]]


def digest_buttons(message: dict[str, Any]) -> list[str]:
    """The page ids with an Acknowledge button in a digest, and "all" for Acknowledge all."""
    found = []
    for block in message["blocks"]:
        if block.get("accessory", {}).get("action_id") == "page_acknowledge":
            found.append(block["block_id"].removeprefix(f"{PAGE_BLOCK}:"))
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("action_id") == "page_acknowledge_all":
                found.append("all")
    return found


async def tick(tocsin: Tocsin) -> None:
    await timers_of(tocsin).tick()
    await settle(tocsin)


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_a_storm_of_pages_to_one_person_is_one_digest_dm_acknowledged_one_by_one_or_all_at_once(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock, transport: str
) -> None:
    double = people
    tocsin = await start_tocsin(
        database_url, transport=transport, clock=clock, policy=Policy.model_validate(FAST_POLICY)
    )
    channel = await declare(double, tocsin, "declare sev2 Checkout is slow", via=transport)
    for _ in range(STORM_THRESHOLD):  # one after another: each a DM of its own
        await double.slash_command("U0ALICE", channel.id, "page checkout", via=transport)
        await settle(tocsin)
        await tick(tocsin)
    for _ in range(PAGES - STORM_THRESHOLD):  # then more within the same minutes: a storm
        await double.slash_command("U0ALICE", channel.id, "page checkout", via=transport)
    await settle(tocsin)
    await tick(tocsin)

    assert len(page_dms(double, "U0BOB")) == STORM_THRESHOLD  # the first few on their own
    (digest,) = digests(double, "U0BOB")  # the rest in one DM, edited as they joined
    in_digest = [b for b in digest_buttons(digest) if b != "all"]
    assert len(in_digest) == PAGES - STORM_THRESHOLD and digest_buttons(digest)[-1] == "all"
    assert f"Acknowledge all {PAGES - STORM_THRESHOLD}" in str(digest["blocks"])

    bob_dm = dm_channel_of(double, "U0BOB")
    first = in_digest[0]
    await double.click(
        "U0BOB", bob_dm, digest["ts"], "page_acknowledge", block_id=f"{PAGE_BLOCK}:{first}", via=transport
    )
    await settle(tocsin)
    (digest,) = digests(double, "U0BOB")
    assert first not in digest_buttons(digest)  # shown as acknowledged, without its button
    assert "acknowledged by <@U0BOB>" in str(digest["blocks"])

    clock.advance(minutes=5, seconds=1)  # the rest still escalate on their own clocks: carol's turn
    await tick(tocsin)
    carol = len(page_dms(double, "U0CAROL")) + sum(len(digest_buttons(d)) - 1 for d in digests(double, "U0CAROL"))
    assert carol == PAGES - 1  # every page bob had not acknowledged, and only those

    (digest,) = digests(double, "U0BOB")
    await double.click("U0BOB", bob_dm, digest["ts"], "page_acknowledge_all", via=transport)
    await settle(tocsin)
    assert told(double, "U0BOB")[-1] == (
        f":white_check_mark: Acknowledged {PAGES - STORM_THRESHOLD - 1} of the pages; escalation stopped."
    )
    (digest,) = digests(double, "U0BOB")
    assert digest_buttons(digest) == []  # nothing left to acknowledge there
    acknowledged = [e for e in await stored_timeline(tocsin, 1) if e.text.startswith("Page acknowledged")]
    assert len(acknowledged) == PAGES - STORM_THRESHOLD
    carol_digests = digests(double, "U0CAROL")
    assert all("acknowledged by <@U0BOB>" in str(d["blocks"]) for d in carol_digests)  # shown settled to carol too


async def test_pages_spread_out_in_time_stay_dms_of_their_own(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=Policy.model_validate(FAST_POLICY))
    channel = await declare(double, tocsin, "declare sev2 Checkout is slow")
    for _ in range(STORM_THRESHOLD + 2):
        await double.slash_command("U0ALICE", channel.id, "page checkout")
        await settle(tocsin)
        await tick(tocsin)
        clock.advance(minutes=3)  # longer apart than the storm window
    assert len(page_dms(double, "U0BOB")) == STORM_THRESHOLD + 2 and digests(double, "U0BOB") == []
