"""The pages in a real browser (headless Chromium): signing in through the Slack double's OpenID Connect
endpoints, every page as a person sees it (with its style sheet applied under the Content-Security-
Policy), hostile text shown as text and never run, a private incident absent for a non-member, and the
sign-in refusing to leave the site or to accept a forged state (test_screenshots.py takes the pictures
docs/web.md shows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selenium.webdriver.chrome.webdriver import WebDriver

from bot.domain.policy import Policy
from tests.web.conftest import OpenSite, Site, Tab
from tests.web.world import FOLLOW_UP, PINNED, PRIVATE_TITLE, PUBLIC_TITLE, UPDATE, build_world, channel_of

SCRIPT_TITLE = "<script>alert(1)</script>"
IMG_NOTE = '"><img src=x onerror=alert(1)>'


def policy_with_a_rota() -> Policy:
    """A policy whose checkout service pages a weekly rota (carol covering this hour)."""
    now = datetime.now(UTC)
    cover = {
        "user": "U0CAROL",
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
    }
    return Policy.model_validate(
        {
            "schedules": {
                "payments-primary": {
                    "rotation": "weekly",
                    "handoff": "mon 09:00",
                    "users": ["U0ALICE", "U0BOB"],
                    "overrides": [cover],
                },
                "search-primary": {"rotation": "daily", "handoff": "09:00", "users": ["U0CAROL", "U0DAVE"]},
            },
            "escalation_policies": {
                "payments": {"tiers": [{"notify": ["schedule:payments-primary"], "after": "5m"}]},
                "search": {"tiers": [{"notify": ["schedule:search-primary"], "after": "5m"}]},
            },
            "services": {
                "checkout": {"keywords": ["checkout"], "escalation_policy": "payments"},
                "search": {"keywords": ["search"], "escalation_policy": "search"},
            },
        }
    )


async def test_a_member_signs_in_with_slack_and_reads_every_page(
    open_site: OpenSite, sqlite_url: str, browser: WebDriver
) -> None:
    site = await open_site(sqlite_url, policy=policy_with_a_rota())
    site.double.add_user("U0DAVE", "dave")
    await build_world(site)
    tab = Tab(browser, site)

    await tab.sign_in("U0ALICE")
    assert tab.url == site.url("/")
    assert await tab.text("h1") == "Incidents" and await tab.text(".who") == "Alice"
    assert await tab.count("table.incidents tbody tr") == 3
    assert PUBLIC_TITLE in await tab.text("table.incidents") and PRIVATE_TITLE in await tab.text("table.incidents")
    assert await tab.run("return getComputedStyle(document.querySelector('.top')).backgroundColor") == "rgb(63, 14, 64)"

    await tab.click("a[href='/incidents/INC-1']")
    assert tab.url == site.url("/incidents/INC-1")
    assert await tab.text("h1") == f"INC-1 {PUBLIC_TITLE}"
    assert "SEV1" in await tab.text(".badges") and "Investigating" in await tab.text(".badges")
    assert UPDATE in await tab.text(".updates") and PINNED in await tab.text(".pinned")
    assert FOLLOW_UP in await tab.text(".follow-ups") and "carol" in (await tab.text(".pages")).lower()
    assert "SEV2 → SEV1" in await tab.text(".severity-history")
    assert await tab.count(".pinned a.slack[href^='https://']") == 1
    assert await tab.count(".timeline li") >= 8

    await tab.click("a[href='/incidents/INC-1/postmortem']")
    assert PUBLIC_TITLE in await tab.text("article.postmortem h1")

    await tab.open("/follow-ups")
    assert FOLLOW_UP in await tab.text("main") and await tab.count("section.owner") == 2

    await tab.open("/stats?days=all")
    assert "2 incidents" in await tab.text(".lead")
    assert await tab.run("const i = document.querySelector('.chart img'); return i && i.complete && i.naturalWidth > 0")

    await tab.open("/oncall")
    rows = await tab.texts("table.oncall tbody tr")
    assert any(r.startswith("payments-primary\tcarol") and "checkout" in r for r in rows), rows

    await tab.click(".sign-out button")
    assert "You are signed out" in await tab.text("main")
    site.double.oidc_user = None  # at Slack, the person now cancels
    await tab.open("/incidents/INC-1")
    assert "Sign-in cancelled" in await tab.text("main") and PUBLIC_TITLE not in await tab.text("body")


async def test_hostile_text_is_shown_as_text_and_never_runs(site: Site, tab: Tab) -> None:
    await site.say("U0ALICE", "general", f"declare sev2 {SCRIPT_TITLE}")
    channel = await channel_of(site, 1)
    await site.say("U0ALICE", channel, f"note {IMG_NOTE}")
    await site.say("U0ALICE", channel, f"update {IMG_NOTE}")
    await tab.sign_in("U0ALICE")
    for path in ("/", "/incidents/INC-1", "/incidents/INC-1/postmortem", f"/?q={SCRIPT_TITLE}"):
        await tab.open(path)
        assert not await tab.alert_shown(), path
        assert await tab.count("script") == 0 and await tab.count("img[src='x']") == 0, path
        assert await tab.run("return window.__pwned === undefined"), path
    await tab.open("/incidents/INC-1")
    assert await tab.text("h1 .title") == SCRIPT_TITLE
    assert IMG_NOTE in await tab.text(".timeline") and IMG_NOTE in await tab.text(".updates")
    await tab.open("/")
    assert await tab.text("td.title") == SCRIPT_TITLE


async def test_a_non_member_cannot_find_a_private_incident(site: Site, tab: Tab) -> None:
    await build_world(site)
    await tab.sign_in("U0BOB")
    assert await tab.count("table.incidents tbody tr") == 2
    assert PRIVATE_TITLE not in await tab.text("body")
    await tab.open("/incidents/INC-2")
    hidden = await tab.text("main")
    await tab.open("/incidents/INC-99")
    assert hidden.replace("INC-2", "INC-99") == await tab.text("main") and "Not found" in hidden
    await tab.open("/?q=QX7Z")
    assert "No incidents match" in await tab.text("main")


async def test_signing_in_never_leaves_the_site_nor_takes_a_forged_state(site: Site, tab: Tab) -> None:
    site.double.oidc_user = "U0ALICE"
    await tab.open("/login?next=//evil.example/")
    assert tab.url == site.url("/") and await tab.text("h1") == "Incidents"
    await tab.forget_cookies()
    await tab.open("/login/callback?code=stolen&state=forged")
    assert "Sign-in not recognised" in await tab.text("main")
    site.double.oidc_user = None  # nobody signs in at Slack now: only a session made earlier would show a page
    await tab.open("/")
    assert "Sign-in cancelled" in await tab.text("main")
