"""Fixtures for the web pages: a real Tocsin serving them (signed in through the Slack double's OpenID
Connect endpoints), an HTTP client that signs in like a browser, and headless Chromium (Debian's
`chromium` and `chromium-driver`, which `make browser` installs) driven by selenium."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from bot.app import Tocsin, build
from bot.domain.policy import Policy
from bot.entrypoints.web import WebPages, WebSettings, add_web_routes
from bot.entrypoints.web_security import security_headers
from bot.usecases.ports import utc_now
from tests.conftest import settings_for, settle
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NO_CHROMIUM = "headless Chromium is not installed (`make browser` installs Debian's chromium and chromium-driver)"
SESSION_SECRET = "web-tests-session-secret-7Qe9xR2mT5vK8pL3"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"
# Set to 1 to (re)write docs/images/web-*.png; `make test` leaves them alone.
TAKE_SCREENSHOTS = os.environ.get("TOCSIN_SCREENSHOTS") == "1"


@dataclass
class Site:
    """A running Tocsin serving the web pages, and the Slack workspace it serves."""

    tocsin: Tocsin
    double: SlackDouble
    base: str  # PUBLIC_URL

    def url(self, path: str) -> str:
        """The full URL of a path on the site."""
        return self.base + path

    def channel(self, name: str) -> Channel:
        """A channel of the workspace, by name."""
        return self.double.channel_named(name)

    async def say(self, user: str, channel: str, text: str) -> None:
        """`user` types `/incident <text>` in `channel` (by name); then the work it started is waited for."""
        ack = await self.double.slash_command(user, self.channel(channel).id, text)
        assert ack.status == 200, ack.body
        await settle(self.tocsin)

    async def pin(self, user: str, channel: str, text: str) -> None:
        """`user` posts `text` in `channel` and pins it (so it joins the incident's timeline)."""
        where = self.channel(channel).id
        ts = self.double.user_posts(user, where, text)
        ack = await self.double.deliver_event(self.double.pin_event(user, where, ts))
        assert ack.status == 200, ack.body
        await settle(self.tocsin)


OpenSite = Callable[..., Awaitable[Site]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serves(app: Any, path: str) -> bool:
    return any(getattr(r, "canonical", None) == path for r in app.router.resources())


def _serve_pages(tocsin: Tocsin, web: WebSettings) -> None:
    """Add the pages and the security headers, unless the composition root already does."""
    if not _serves(tocsin.web_app, "/login"):
        identity = tocsin.identity
        add_web_routes(tocsin.web_app, WebPages.of(tocsin.deps, web, workspace=lambda: identity.team_id))
    if security_headers not in tocsin.web_app.middlewares:
        tocsin.web_app.middlewares.append(security_headers)


@pytest.fixture
async def open_site(double: SlackDouble) -> AsyncIterator[OpenSite]:
    """Start Tocsins serving the web pages (PUBLIC_URL known before start, so on a port chosen first)."""
    started: list[Tocsin] = []
    double.channel_named("incidents").members.add(double.bot_user_id)

    async def open_one(
        database_url: str, *, policy: Policy | None = None, clock: Callable[[], datetime] = utc_now
    ) -> Site:
        for attempt in range(5):
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            values: dict[str, Any] = {
                "public_url": base,
                "slack_oauth_url": double.base_url,
                "slack_client_id": double.client_id,
                "slack_client_secret": double.client_secret,
                "session_secret": SESSION_SECRET,
            }
            settings = settings_for(double, database_url, port=port, **values)
            tocsin = await build(
                settings,
                policy or Policy(),
                post_interval=0.0,
                header_interval=0.0,
                tick_seconds=None,
                clock=clock,
                tier_minute=double.tier_minute,
            )
            _serve_pages(
                tocsin, WebSettings(base, double.base_url, double.client_id, double.client_secret, SESSION_SECRET)
            )
            try:
                await tocsin.start()
            except OSError as exc:  # someone took the port meanwhile: another one
                await tocsin.stop(drain_seconds=1)
                if exc.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                continue
            started.append(tocsin)
            double.app_url = f"{base}/slack/events"
            double.redirect_urls.add(f"{base}/login/callback")
            return Site(tocsin, double, base)
        raise AssertionError("unreachable")

    yield open_one
    for tocsin in started:
        await tocsin.stop(drain_seconds=5)


@pytest.fixture
async def site(open_site: OpenSite, sqlite_url: str) -> Site:
    """The web pages of a Tocsin on SQLite."""
    return await open_site(sqlite_url)


@dataclass
class Reply:
    """An HTTP answer: status, where it ended (after redirects), headers and body."""

    status: int
    url: str
    headers: dict[str, str]
    text: str
    cookies: list[str]  # the Set-Cookie headers of the last answer

    @property
    def location(self) -> str:
        """Where a redirect points."""
        return self.headers.get("Location", "")


@dataclass
class WebClient:
    """An HTTP client that keeps cookies like a browser (for IP hosts too) and signs in like one."""

    site: Site
    http: aiohttp.ClientSession

    async def get(self, path: str, *, follow: bool = True, **query: str) -> Reply:
        """GET a path (or a full URL) on the site."""
        url = path if path.startswith("http") else self.site.url(path)
        async with self.http.get(url, params=query or None, allow_redirects=follow) as response:
            return await _reply(response)

    async def post(self, path: str, form: dict[str, str], *, headers: dict[str, str] | None = None) -> Reply:
        """POST a form to a path on the site."""
        async with self.http.post(self.site.url(path), data=form, headers=headers, allow_redirects=False) as response:
            return await _reply(response)

    async def sign_in(self, user: str | None, *, next_path: str | None = None) -> Reply:
        """Sign in through Slack as `user` (None: cancel at Slack), following every redirect."""
        self.site.double.oidc_user = user
        query = "?" + urlencode({"next": next_path}) if next_path is not None else ""
        return await self.get("/login" + query)

    def csrf(self, page: Reply) -> str:
        """The CSRF token a signed-in page's sign-out form carries."""
        marker = 'name="csrf" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]


async def _reply(response: aiohttp.ClientResponse) -> Reply:
    return Reply(
        response.status,
        str(response.url),
        dict(response.headers),
        await response.text(),
        response.headers.getall("Set-Cookie", []),
    )


@pytest.fixture
async def client(site: Site) -> AsyncIterator[WebClient]:
    """A browser-like HTTP client of the site (no one signed in yet)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield WebClient(site, http)


# ----- headless Chromium ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for the test session (skipped, saying why, when it is not installed)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):  # CI's `make test` installs it (make browser): missing there is a failure
            pytest.fail(NO_CHROMIUM)
        pytest.skip(NO_CHROMIUM)
    profile = tempfile.mkdtemp(prefix="tocsin-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: WebDriver) -> WebDriver:
    """The session's Chromium (a selenium webdriver.Chrome), with no cookies and a desktop window.

    Its calls block: from a test whose Tocsin runs in the same event loop, make them through `Tab` (or
    `asyncio.to_thread`), so the server can answer meanwhile."""
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.set_window_size(1280, 900)
    return chromium


class Tab:
    """The browser driven from async tests: each call runs in a thread, so the app keeps serving."""

    def __init__(self, driver: WebDriver, site: Site) -> None:
        """Drive `driver` on `site`."""
        self.driver = driver
        self.site = site

    async def open(self, path: str) -> None:
        """Load a page of the site (or any URL) and wait until it has loaded."""
        url = path if path.startswith("http") else self.site.url(path)
        await asyncio.to_thread(self.driver.get, url)

    async def sign_in(self, user: str) -> None:
        """Sign in with Slack as `user`, through the double's authorize endpoint."""
        self.site.double.oidc_user = user
        await self.open("/login")

    async def forget_cookies(self) -> None:
        """Drop every cookie, as a browser's "clear site data" does."""
        await asyncio.to_thread(self.driver.execute_cdp_cmd, "Network.clearBrowserCookies", {})

    async def run(self, script: str, *args: Any) -> Any:
        """Run JavaScript in the page (a test's probe; the pages themselves have none)."""
        return await asyncio.to_thread(self.driver.execute_script, script, *args)

    async def text(self, selector: str = "body") -> str:
        """The text a person sees in the first element matching `selector` ("" when there is none)."""
        found = await self.run("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector)
        return str(found)

    async def texts(self, selector: str) -> list[str]:
        """The visible text of every element matching `selector`."""
        found = await self.run("return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);", selector)
        return [str(t) for t in found]

    async def count(self, selector: str) -> int:
        """How many elements match `selector`."""
        return int(await self.run("return document.querySelectorAll(arguments[0]).length;", selector))

    @property
    def url(self) -> str:
        """Where the browser is."""
        return str(self.driver.current_url)

    async def alert_shown(self) -> bool:
        """Whether a JavaScript dialog (alert, confirm) is open."""

        def probe() -> bool:
            try:
                self.driver.switch_to.alert.dismiss()
            except Exception:  # selenium's NoAlertPresentException: nothing is open
                return False
            return True

        return await asyncio.to_thread(probe)

    async def click(self, selector: str, *, within: float = 60.0) -> None:
        """Click the first element matching `selector` and wait until the page it loads has loaded."""
        await self.run("window.__tocsinOldPage = true;")
        await asyncio.to_thread(lambda: self.driver.find_element("css selector", selector).click())
        deadline = asyncio.get_running_loop().time() + within
        while not await self.run("return !window.__tocsinOldPage && document.readyState === 'complete';"):
            assert asyncio.get_running_loop().time() < deadline, f"clicking {selector} loaded no page"
            await asyncio.sleep(0.05)

    async def screenshot(self, name: str, *, width: int = 1280) -> None:
        """Save the whole page as docs/images/web-<name>.png, when TOCSIN_SCREENSHOTS=1."""
        if not TAKE_SCREENSHOTS:
            return
        height = int(await self.run("return Math.min(document.documentElement.scrollHeight, 2400);"))

        def shoot() -> None:
            self.driver.set_window_size(width, max(600, height + 120))
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(SCREENSHOTS / f"web-{name}.png"))
            self.driver.set_window_size(1280, 900)

        await asyncio.to_thread(shoot)


@pytest.fixture
def tab(browser: WebDriver, site: Site) -> Tab:
    """The browser on the site."""
    return Tab(browser, site)
