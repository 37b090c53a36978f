from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Playwright, expect, sync_playwright

from shop.ops.demo import demo_load
from shop.storefront.tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Console, shop_server

expect.set_options(timeout=15_000)

# The live server's own ticker reprices the demo sale every second.
TICKING = {"PRICE_TICKER": "inprocess", "PRICE_TICK_SECONDS": "1"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server_env(**env): environment of the live server of a browser test")


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path, usd: Any) -> Iterator[str]:
    """A live server of the project (see ``server_env``); yields its base URL."""
    marker = request.node.get_closest_marker("server_env")
    with shop_server(tmp_path, **(marker.kwargs if marker else {})) as base:
        yield base


@pytest.fixture
def demo_shop(server: str) -> None:
    """The demo shop (its currencies, goods and running sale), loaded once the server is up."""
    demo_load()


class Tab:
    """Chromium, started when the test has set up its data.

    Playwright's sync API runs an event loop in the test's thread from then on,
    where Django's ORM refuses to run: tests prepare the database first and
    talk to the live server over HTTP afterwards.
    """

    def __init__(self, console: Console, screenshot: Path) -> None:
        self.console = console
        self.screenshot = screenshot
        self.playwright: Playwright | None = None
        self.page: Page | None = None

    def open(self, *, width: int = 1280, height: int = 900) -> Page:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: run scripts/chromium.sh (make test does)")
        self.playwright = sync_playwright().start()
        browser = self.playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC"
        )
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.console.watch(self.page)
        return self.page

    def close(self) -> None:
        if self.playwright is None:
            return
        try:
            if self.page is not None:
                self.screenshot.parent.mkdir(parents=True, exist_ok=True)
                self.page.screenshot(path=self.screenshot, full_page=True)
        finally:
            self.playwright.stop()  # closes the browser too


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def tab(server: str, console: Console, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A browser tab to open after the data is ready; its screenshot lands in artifacts/storefront/
    whatever the outcome, taken while the server still runs."""
    opened = Tab(console, ARTIFACTS / f"{request.node.name}.png")
    yield opened
    opened.close()
