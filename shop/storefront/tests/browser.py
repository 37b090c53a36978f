"""Helpers for the storefront's browser tests: Debian's Chromium driven by Playwright, a live server."""

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

from playwright.sync_api import Page, WebSocketRoute

from shop.tests.live import ROOT, asgi_server, service_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts" / "storefront"
PASSWORD = "violet-kettle-7391"

# What Chromium logs for an answer with an error status (not a JavaScript error).
_HTTP_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


@dataclass
class Console:
    """Everything the page logged as an error, and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def assert_clean(self, *, http_statuses: tuple[int, ...] = ()) -> None:
        """No JavaScript errors; answers with these statuses were expected (a 409, a failed login)."""
        unexpected = [
            text
            for text in self.errors
            if not ((found := _HTTP_STATUS.match(text)) and int(found.group(1)) in http_statuses)
        ]
        assert unexpected == [], unexpected


@contextmanager
def shop_server(tmp_path: Path, **env: str) -> Iterator[str]:
    """The project's ASGI server (HTTP and the feed) on the test database; yields its base URL."""
    overrides = {"PRICE_TICKER": "off", "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}", **env}
    with asgi_server(service_env(**overrides), tmp_path / "server.log") as base:
        yield base


def call(base: str, method: str, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    """One JSON request to the live server, as an integrator's program would make it."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local test server
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def access_token(base: str, email: str, password: str = PASSWORD) -> str:
    status, tokens = call(base, "POST", "/auth/jwt/create/", body={"email": email, "password": password})
    assert status == 200, tokens
    return str(tokens["access"])


class FeedTap:
    """Sits between the page and the live feed (Playwright's WebSocket routing).

    It forwards everything both ways unless told to hold the server's price
    batches back, as a slow or lossy network would, or to cut the connection.
    """

    def __init__(self) -> None:
        self.connections: list[WebSocketRoute] = []
        self.from_page: list[dict[str, Any]] = []
        self.to_page: list[dict[str, Any]] = []
        self.hold_batches = False
        self.drop_batches = 0
        self.dropped: list[int] = []

    def install(self, page: Page) -> None:
        page.route_web_socket(re.compile(r"/ws/price_updates/"), self.route)

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.connections.append(ws)

        def page_sent(message: str | bytes) -> None:
            self.from_page.append(json.loads(message))
            server.send(message)

        def server_sent(message: str | bytes) -> None:
            event = json.loads(message)
            if event.get("type") == "prices" and (self.hold_batches or self.drop_batches):
                self.drop_batches = max(0, self.drop_batches - 1)
                self.dropped.append(event["seq"])
                return
            self.to_page.append(event)
            ws.send(message)

        ws.on_message(page_sent)
        server.on_message(server_sent)

    def resubscriptions(self) -> list[dict[str, Any]]:
        """The page's requests for a fresh snapshot after a gap in ``seq``."""
        return [
            m
            for m in self.from_page
            if m.get("action") == "subscribe" and str(m.get("id", "")).startswith("feed-resync")
        ]


def goods_row(page: Page, name: str) -> Any:
    """The one <li> of the board that names this goods."""
    return page.locator("#goods > li").filter(has=page.get_by_role("heading", name=name, exact=True))


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def until(page: Page, predicate: Callable[[], Any], timeout: float = 15.0) -> None:
    """Wait for what the page's traffic makes true (Playwright runs its handlers while we wait)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "gave up waiting"
        page.wait_for_timeout(100)
