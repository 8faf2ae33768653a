"""The status page in a real browser (headless Chromium, tests/web's fixture) at a phone's width: it fits
without scrolling sideways, its stylesheet loads under the Content-Security-Policy, published markup stays
text, and the history shows every day. With TOCSIN_SCREENSHOTS=1 it saves docs/images/status-phone.png and
docs/images/status-desktop.png."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from bot.domain.incidents import Incident, Status
from tests.status.world import StatusWorld, serving, world_for
from tests.web.conftest import SCREENSHOTS, TAKE_SCREENSHOTS
from tests.web.conftest import browser as browser  # the fixture, shared with tests/web
from tests.web.conftest import chromium as chromium  # the fixture, shared with tests/web

PHONE = (390, 844)  # CSS pixels of a common phone


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[StatusWorld]:
    made = await world_for(sqlite_url)
    yield made
    await made.engine.dispose()


async def history(world: StatusWorld) -> Incident:
    """Two weeks with a resolved incident, and an outage being worked on now (returned)."""
    now = world.clock()
    world.clock.now = now - timedelta(days=12)
    past = await world.declare("Search slow", service="api", severity="SEV3")
    await world.publish(past, "Searches take longer than usual; we are looking into it.", title="Slow search")
    world.clock.advance(hours=3)
    await world.resolve(past, public="Search is back to normal speed.")
    world.clock.now = now
    outage = await world.declare(severity="SEV1")
    await world.publish(outage, "Payments fail for most customers. We are investigating.", title="Checkout is down")
    await world.lifecycle.change_status(outage.id, status=Status.IDENTIFIED, actor="U0ALICE")
    await world.publish(outage, "We found the cause and are rolling back a faulty change.\nNext update by 11:00 UTC.")
    return outage


async def in_browser(driver: WebDriver, call: Any, *args: Any) -> Any:
    return await asyncio.to_thread(call, *args)


async def test_the_page_fits_a_phone_and_loads_its_stylesheet(world: StatusWorld, browser: WebDriver) -> None:
    outage = await history(world)
    async for client in serving(world.page):
        await world.page.refresh()
        url = str(client.make_url("/status"))
        width, height = PHONE
        phone = {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True}
        await in_browser(browser, browser.execute_cdp_cmd, "Emulation.setDeviceMetricsOverride", phone)
        try:
            await in_browser(browser, browser.get, url)
            probe = await in_browser(
                browser,
                browser.execute_script,
                """
                const banner = document.getElementById('overall');
                const cells = [...document.querySelectorAll('.history')].map(h => h.children.length);
                const day = document.querySelector('.day');
                return {
                    wide: document.documentElement.scrollWidth,
                    viewport: window.innerWidth,
                    banner: getComputedStyle(banner).backgroundColor,
                    overall: banner.innerText,
                    cells: cells,
                    dayWidth: day.getBoundingClientRect().width,
                    scripts: document.scripts.length,
                    images: document.images.length,
                    text: document.body.innerText,
                };
                """,
            )
            assert probe["viewport"] == width
            assert probe["wide"] <= probe["viewport"], "the page scrolls sideways at a phone's width"
            assert probe["banner"] not in ("", "rgba(0, 0, 0, 0)"), "the stylesheet did not load"
            assert probe["overall"] == "Major Service Outage"
            assert probe["cells"] == [90, 90] and probe["dayWidth"] > 0
            assert "Search is back to normal speed." in probe["text"]
            if TAKE_SCREENSHOTS:
                await shoot(browser, "status-phone", phone)
            hostile = '<script>alert(1)</script> "><img src=x onerror=alert(2)>'
            await world.publish(outage, hostile)
            await world.page.refresh()
            # The browser may keep the page 15 s (Cache-Control): a customer's reload would wait that out.
            await in_browser(browser, browser.execute_cdp_cmd, "Network.clearBrowserCache", {})
            await in_browser(browser, browser.get, url)
            shown = await in_browser(
                browser,
                browser.execute_script,
                "return [document.scripts.length, document.images.length, document.body.innerText];",
            )
            assert shown[:2] == [0, 0] and hostile in shown[2]  # the published markup is only text
        finally:
            await in_browser(browser, browser.execute_cdp_cmd, "Emulation.clearDeviceMetricsOverride", {})
        if TAKE_SCREENSHOTS:
            await shoot(
                browser, "status-desktop", {"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": False}
            )
            await in_browser(browser, browser.execute_cdp_cmd, "Emulation.clearDeviceMetricsOverride", {})


async def shoot(driver: WebDriver, name: str, screen: dict[str, Any]) -> None:
    """Save the whole page on `screen` (CDP device metrics) as docs/images/<name>.png."""

    def take() -> None:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
        height = int(driver.execute_script("return Math.min(document.documentElement.scrollHeight, 2400);"))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**screen, "height": max(600, height)})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    await asyncio.to_thread(take)
