"""Every HTML page under the shop's Content-Security-Policy, loading nothing from other hosts."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from shop.catalog.resources import COLUMNS
from shop.storefront.tests.browser import Console
from shop.storefront.tests.conftest import Tab
from shop.tests.factories import GoodsFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WATCH_CSP = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


FACTORY_PASSWORD = "correct horse battery staple"  # shop.tests.factories.UserFactory

# ReDoc's sidebar shows Redocly's logo from their CDN; the policy blocks it (and only it).
REDOCLY_LOGO = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize(
    ("path", "shows", "blocked"),
    [
        ("/", "Currency", []),
        ("/api/docs/", "/api/goods/", []),  # Swagger UI lists the operations
        ("/api/redoc/", "tickshop API", [REDOCLY_LOGO]),  # ReDoc renders the schema's title
        ("/api/goods/", "Goods List", []),  # DRF's browsable API
        ("/admin/login/", "Django administration", []),
    ],
)
def test_a_page_runs_under_the_csp_from_the_shop_alone(
    server: str, tab: Tab, console: Console, path: str, shows: str, blocked: list[str]
) -> None:
    page = tab.open()
    page.add_init_script(WATCH_CSP)
    hosts: set[str] = set()  # of everything the page really loaded
    page.on(
        "requestfinished",
        lambda request: request.url.startswith("http") and hosts.add(urlsplit(request.url).netloc),
    )

    response = page.goto(f"{server}{path}")

    assert response is not None
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):  # fmt: skip
        assert directive in policy
    expect(page.get_by_text(shows).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(server).netloc}
    assert page.evaluate("window.__csp") == blocked
    console.errors = [e for e in console.errors if not ("cdn.redoc.ly" in e and blocked)]
    console.assert_clean()


def test_the_storefront_allows_no_inline_styles(server: str, tab: Tab) -> None:
    response = tab.open().goto(f"{server}/")
    assert response is not None
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_the_goods_import_and_export_pages_work_under_the_csp(
    server: str, tab: Tab, console: Console
) -> None:
    # given: staff, and goods to export
    staff = UserFactory(is_staff=True, is_superuser=True)
    GoodsFactory(name="Lamp", price="10.00")
    page = tab.open()
    page.add_init_script(WATCH_CSP)
    page.goto(f"{server}/admin/login/?next=/admin/catalog/goods/export/")
    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # the export page's "Select all" works: bound from a file, where an inline handler would be blocked
    fields = page.locator(".selectable-field-export-row input[type=checkbox]:not(.select-toggle)")
    columns = len(COLUMNS)  # every column of the goods' export
    expect(fields).to_have_count(columns)
    page.locator("input.select-toggle").uncheck()
    for i in range(columns):
        expect(fields.nth(i)).not_to_be_checked()
    page.locator("input.select-toggle").check()
    for i in range(columns):
        expect(fields.nth(i)).to_be_checked()
    assert page.evaluate("window.__csp") == []

    # the import page runs its scripts too (it guesses the format from the file's name)
    page.goto(f"{server}/admin/catalog/goods/import/")
    page.get_by_label("File to import").set_input_files(
        files=[{"name": "goods.xlsx", "mimeType": "application/octet-stream", "buffer": b"x"}]
    )
    expect(page.locator("#id_format option:checked")).to_have_text("xlsx")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__csp") == []
    console.assert_clean()
