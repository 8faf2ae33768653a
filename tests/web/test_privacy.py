"""A private incident exists only for the members of its channel: for a signed-in member of the workspace
who is not one, it is absent from the list, search, follow-ups and stats, and its page and postmortem are
"not found" exactly as a number nobody has. When Slack cannot say who the members are, nobody sees it.
On both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.web.conftest import OpenSite, WebClient
from tests.web.world import PRIVATE_TITLE, PRIVATE_WORDS, build_world, channel_of

PAGES = ("/", "/?q=QX7Z", "/?status=open", "/?severity=SEV2", "/follow-ups", "/follow-ups?state=all", "/stats")


def leaks(text: str) -> list[str]:
    return [word for word in (*PRIVATE_WORDS, PRIVATE_TITLE, "INC-2") if word in text]


@pytest.fixture
async def clients(open_site: OpenSite, database_url: str) -> AsyncIterator[tuple[WebClient, WebClient]]:
    """The world on each database, with alice (in the private incident's channel) and bob (not) signed in."""
    site = await open_site(database_url)
    await build_world(site)
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as one,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as two,
    ):
        alice, bob = WebClient(site, one), WebClient(site, two)
        assert (await alice.sign_in("U0ALICE")).status == 200
        assert (await bob.sign_in("U0BOB")).status == 200
        yield alice, bob


async def test_lists_search_follow_ups_and_stats_leave_it_out_for_non_members(
    clients: tuple[WebClient, WebClient],
) -> None:
    alice, bob = clients
    for path in PAGES:
        outsider = await bob.get(path)
        assert outsider.status == 200, (path, outsider.text[:300])
        said = outsider.text.replace('value="QX7Z"', "")  # what bob typed into the search box himself
        assert leaks(said) == [], path
    member = "\n".join([(await alice.get(path)).text for path in PAGES])
    assert set(leaks(member)) >= {"QX7Z", "INC-2", "Audit the CI secrets KP2M"}
    assert "INC-2" not in (await alice.get("/stats")).text  # the stats count public incidents for everyone
    totals = [re.search(r"(\d+) incidents?", (await who.get("/stats?days=all")).text) for who in (alice, bob)]
    assert [m.group(1) for m in totals if m] == ["2", "2"]


@pytest.mark.parametrize("below", ["", "/postmortem"])
async def test_its_pages_are_not_found_exactly_like_a_number_nobody_has(
    clients: tuple[WebClient, WebClient], below: str
) -> None:
    alice, bob = clients
    hidden, unknown = await bob.get(f"/incidents/INC-2{below}"), await bob.get(f"/incidents/INC-99{below}")
    assert hidden.status == unknown.status == 404
    assert hidden.text.replace("INC-2", "INC-99") == unknown.text
    assert leaks(hidden.text) == ["INC-2"]  # only the name asked about, echoed as any unknown one is
    seen = await alice.get(f"/incidents/INC-2{below}")
    assert seen.status == 200 and PRIVATE_TITLE in seen.text


async def test_when_slack_cannot_say_who_is_in_the_channel_nobody_sees_it(client: WebClient) -> None:
    site = client.site
    await build_world(site)
    site.tocsin.deps.visibility.forget(site.double.channel_named(await channel_of(site, 2)).id)
    site.double.fail_next("conversations.members", "internal_error", retry_after=None, times=20)
    assert (await client.sign_in("U0ALICE")).status == 200
    assert (await client.get("/incidents/INC-2")).status == 404
    assert leaks((await client.get("/")).text) == []
