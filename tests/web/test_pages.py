"""What a signed-in person reads on each page, over HTTP: the incident list with its filters, search and
pages; one incident with its figures, roles, severity history, updates, pinned message, follow-ups, pages
and timeline; the postmortem rendered from Markdown; follow-ups by owner; stats; who is on call."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.domain.policy import Policy
from tests.conftest import settle
from tests.web.conftest import OpenSite, WebClient
from tests.web.world import FOLLOW_UP, NOTE, PINNED, PUBLIC_TITLE, UPDATE, build_world


def visible(html: str) -> str:
    """The page's text, tags taken out and white space folded (roughly what a person reads)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
async def alice(client: WebClient) -> WebClient:
    """Alice signed in, in a workspace with the world's incidents."""
    await build_world(client.site)
    assert (await client.sign_in("U0ALICE")).status == 200
    return client


async def test_the_list_shows_incidents_newest_first_and_filters_and_searches_them(alice: WebClient) -> None:
    page = visible((await alice.get("/")).text)
    assert page.index("INC-3") < page.index("INC-2") < page.index("INC-1")
    assert "Search latency" in page and PUBLIC_TITLE in page and "Resolved" in page
    assert "INC-3" not in visible((await alice.get("/", status="open")).text)
    assert "INC-1" not in visible((await alice.get("/", status="resolved")).text)
    searched = visible((await alice.get("/", q="checkout")).text)
    assert "INC-1" in searched and "INC-3" not in searched
    severe = visible((await alice.get("/", severity="sev1")).text)
    assert "INC-1" in severe and "INC-2" not in severe
    assert "No incidents match" in (await alice.get("/", q="nothing like this")).text
    refused = await alice.get("/", status="sleeping")
    assert refused.status == 400 and "no status" in refused.text
    assert (await alice.get("/", after="not-a-cursor")).status == 400


async def test_the_list_goes_a_page_at_a_time(client: WebClient) -> None:
    site = client.site
    for n in range(53):
        ack = await site.double.slash_command("U0ALICE", site.channel("general").id, f"declare sev4 Flaky test {n}")
        assert ack.status == 200
    await settle(site.tocsin)
    first = await client.sign_in("U0ALICE")
    refs = re.findall(r'href="/incidents/(INC-\d+)"', first.text)
    assert len(refs) == 50 and refs[0] == "INC-53"
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following is not None
    second = await client.get(following.group(1).replace("&amp;", "&"))
    more = re.findall(r'href="/incidents/(INC-\d+)"', second.text)
    assert more == ["INC-3", "INC-2", "INC-1"] and 'rel="next"' not in second.text


async def test_an_incident_page_shows_what_happened(alice: WebClient) -> None:
    html = (await alice.get("/incidents/INC-1")).text
    page = visible(html)
    assert f"INC-1 {PUBLIC_TITLE}" in page and "SEV1" in page and "Investigating" in page
    assert "Declared by Alice" in page or "Declared by alice" in page
    assert "Incident Commander" in page and re.search(r"Incident Commander\s+bob", page, re.IGNORECASE)
    assert re.search(r"SEV2 → SEV1", page)
    assert UPDATE in page and NOTE in page and PINNED in page and FOLLOW_UP in page
    assert "carol" in page.lower()  # paged
    assert 'href="https://' in html and "app_redirect?channel=" in html  # back to Slack
    assert "Postmortem draft" in page


async def test_the_postmortem_is_rendered_from_its_markdown(alice: WebClient) -> None:
    html = (await alice.get("/incidents/INC-3/postmortem")).text
    assert "<h1>" in html or "<h2>" in html
    assert "Search latency" in visible(html)
    assert (await alice.get("/incidents/INC-3/postmortem")).status == 200


async def test_follow_ups_are_grouped_by_owner_with_overdue_ones_marked(alice: WebClient) -> None:
    page = visible((await alice.get("/follow-ups")).text)
    assert FOLLOW_UP in page and "INC-1" in page and "Audit the CI secrets KP2M" in page
    mine = visible((await alice.get("/follow-ups", owner="me")).text)
    assert "Audit the CI secrets KP2M" in mine and FOLLOW_UP not in mine
    assert "No follow-ups here" in (await alice.get("/follow-ups", overdue="1")).text


async def test_stats_show_the_figures_of_incident_stats(alice: WebClient) -> None:
    page = visible((await alice.get("/stats")).text)
    assert "2 incidents" in page and "MTTR" in page and "SEV3" in page
    assert "Repeat incidents" in page and "Follow-ups 1 open" in page
    assert (await alice.get("/stats", days="7")).status == 400


async def test_on_call_shows_who_each_schedule_has_now_and_next(open_site: OpenSite, sqlite_url: str) -> None:
    now = datetime.now(UTC)
    policy = Policy.model_validate(
        {
            "schedules": {
                "payments-primary": {
                    "rotation": "weekly",
                    "handoff": "mon 09:00",
                    "users": ["U0ALICE", "U0BOB"],
                    "overrides": [
                        {
                            "user": "U0CAROL",
                            "start": (now - timedelta(hours=1)).isoformat(),
                            "end": (now + timedelta(hours=1)).isoformat(),
                        }
                    ],
                }
            },
            "escalation_policies": {"payments": {"tiers": [{"notify": ["schedule:payments-primary"], "after": "5m"}]}},
            "services": {"checkout": {"escalation_policy": "payments"}},
        }
    )
    site = await open_site(sqlite_url, policy=policy)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        client = WebClient(site, http)
        await client.sign_in("U0BOB")
        page = visible((await client.get("/oncall")).text)
    assert re.search(r"payments-primary carol \S+ \S+ UTC to alice checkout", page), page
