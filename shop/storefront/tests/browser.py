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
    # Pages that enforce_csp serves through Playwright would otherwise count as public and be
    # refused their own WebSocket on 127.0.0.1 (Chromium's local-network-access checks).
    "--disable-features=LocalNetworkAccessChecks",
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
    # No Celery worker runs beside it: account e-mails go out from the server's own thread (embedded mode's way).
    overrides = {
        "PRICE_TICKER": "off",
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",
        "EMAIL_DELIVERY": "thread",
        **env,
    }
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
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test server
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


def until(page: Page, predicate: Callable[[], Any], timeout: float = 30.0) -> None:
    """Wait for what the page's traffic makes true (Playwright runs its handlers while we wait)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "gave up waiting"
        page.wait_for_timeout(100)


# --- Accessibility, the Content-Security-Policy and screenshots --------------------------------

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
# The shop's HTML pages (not its static files, the API or the feed).
_PAGES = re.compile(
    r"^https?://[^/]+/(\?[^#]*)?$|/goods/[^/]*/?(\?[^#]*)?$|/(activate|password-reset)/|/watch/(\?[^#]*)?$"
)


def enforce_csp(page: Page) -> None:
    """Serve the shop's pages with the Content-Security-Policy that production sends, whatever
    this server sends: a page that needs an inline script or style then fails (the Console sees it)."""

    def handle(route: Any) -> None:
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": CSP}
        route.fulfill(response=response, headers=headers)

    page.route(_PAGES, handle)


def axe_problems(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern.
        page.evaluate(AXE.read_text())
    violations = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
          }));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Page) -> None:
    problems = axe_problems(page)
    assert problems == [], json.dumps(problems, indent=1)


def focus_is_visible(page: Page) -> bool:
    """The focused element shows an outline (the shop's :focus-visible style)."""
    return bool(
        page.evaluate(
            """() => {
              const style = getComputedStyle(document.activeElement);
              return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            }"""
        )
    )


def tab_to(page: Page, role: str, name: str, *, limit: int = 80) -> None:
    """Press Tab until the control with this role and name has the focus; each stop shows it."""
    target = page.get_by_role(role, name=name, exact=True)  # type: ignore[arg-type]
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            assert focus_is_visible(page), f"{role} {name!r} has the focus but does not show it"
            return
    raise AssertionError(f"{role} {name!r} is not reachable with Tab")


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot kept as an artefact of the test run (var/screenshots/, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    return path
