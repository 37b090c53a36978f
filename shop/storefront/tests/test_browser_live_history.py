"""The board's sparklines in one request a page, and a goods page whose table and chart follow the
feed: Chromium under the production CSP, checked by axe (issue 22 §4)."""

import re
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from shop.accounts.tests.helpers import PASSWORD as FACTORY_PASSWORD
from shop.storefront.tests.browser import (
    Console,
    FeedTap,
    access_token,
    assert_accessible,
    call,
    enforce_csp,
    until,
)
from shop.storefront.tests.catalog import catalog_create, history_seed
from shop.storefront.tests.conftest import Tab
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def api_requests(page: Page, keep: Callable[[str], bool]) -> list[str]:
    """The paths and queries of the page's requests to the API that ``keep`` accepts, from now on."""
    seen: list[str] = []

    def record(request: Request) -> None:
        url = urlsplit(request.url)
        if url.path.startswith("/api/") and keep(url.path):
            seen.append(f"{url.path}?{url.query}")

    page.on("request", record)
    return seen


def asked_goods(path: str) -> list[int]:
    return [int(g) for g in parse_qs(urlsplit(path).query)["goods"][0].split(",")]


@pytest.mark.server_env(PRICE_TICKER="off")  # only the test sets prices
def test_the_board_loads_its_sparklines_in_one_request_a_page(
    server: str, tab: Tab, console: Console
) -> None:
    # given: 120 goods, each with a few minutes of history
    goods = catalog_create(120)
    for g in goods[:100]:
        history_seed(g, hours=0.05)  # 6 older prices
    page = tab.open()
    enforce_csp(page)
    prices = api_requests(page, lambda path: path.startswith("/api/prices"))

    # when: the board opens
    page.goto(f"{server}/")
    # then: every row draws its sparkline from one request for the 50 goods on screen
    sparks = page.locator("#goods > li svg.spark polyline")
    expect(sparks).to_have_count(50)
    assert [path.split("?")[0] for path in prices] == ["/api/prices/recent/"], prices
    assert asked_goods(prices[0]) == [g.id for g in goods[:50]]
    assert "limit=30" in prices[0]
    expect(page.locator("#goods > li").first.get_by_role("img")).to_have_attribute(
        "aria-label", re.compile(r"^Price trend over the last 7 prices")
    )

    # when: the next page
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#goods > li").first).to_contain_text("Goods 00051")
    # then: one more request, for the next 50
    expect(sparks).to_have_count(50)
    until(page, lambda: len(prices) == 2)
    assert asked_goods(prices[1]) == [g.id for g in goods[50:100]]

    # when: the last page (its goods have one price each: nothing to draw yet)
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#goods > li")).to_have_count(20)
    until(page, lambda: len(prices) == 3)
    assert asked_goods(prices[2]) == [g.id for g in goods[100:]]
    page.wait_for_load_state("networkidle")
    assert len(prices) == 3, prices
    assert all(path.startswith("/api/prices/recent/?") for path in prices), prices
    assert_accessible(page)
    console.assert_clean()


@pytest.mark.server_env(PRICE_TICKER="off")  # only the test sets prices
def test_the_goods_page_follows_the_feed_and_charts_the_sale_bounds(
    server: str, tab: Tab, console: Console
) -> None:
    # given: a goods in a running sale between 100.00 and 130.00, with an hour of history
    CurrencyFactory(code="EUR", rate="0.92")
    lamp = GoodsFactory(name="Lamp", price="115.00")
    SaleFactory(goods=[lamp], min_price=Decimal("100.00"), max_price=Decimal("130.00"))
    history_seed(lamp, hours=1)  # 120 older prices
    staff = UserFactory(is_staff=True)
    page = tab.open()
    enforce_csp(page)
    tap = FeedTap()
    tap.install(page)

    # when: its page opens
    page.goto(f"{server}/goods/{lamp.id}/")
    chart = page.get_by_role("img", name="Price history")
    # then: the library's chart, with the sale's bounds as lines, and the 20 newest prices
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart).to_have_attribute("data-bounds", "100.00 130.00")
    expect(chart.locator("canvas").first).to_be_visible()
    expect(page.locator("#chart-summary")).to_contain_text("between 100.00 and 130.00 USD")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    assert_accessible(page)

    # when: the pointer rests on the chart
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # then: the candle under it, with the price at the pointer
    expect(page.locator("#chart-readout")).to_contain_text(re.compile(r"open .* pointer at \d+\.\d\d USD"))
    # and the mouse wheel zooms in, a drag pans, within the loaded candles
    expect(chart).to_have_attribute("data-range", re.compile(r"."))
    span = lambda: (lambda a, b: b - a)(*map(float, (chart.get_attribute("data-range") or "0 0").split()))  # noqa: E731
    before = span()
    page.mouse.wheel(0, -600)
    until(page, lambda: span() < before)
    zoomed = chart.get_attribute("data-range")
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 150, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    until(page, lambda: chart.get_attribute("data-range") != zoomed)

    # when: a new price is committed
    fetched = api_requests(page, lambda path: True)
    token = access_token(server, staff.email, FACTORY_PASSWORD)
    status, _ = call(server, "POST", "/api/prices/", token=token, body={"goods": lamp.id, "amount": "123.45"})
    assert status == 201
    # then: the table gains a row on top from the feed, without asking the API again
    expect(rows).to_have_count(21)
    expect(rows.first.locator("td").nth(1)).to_have_text("123.45")
    expect(rows.first.locator("td").nth(2)).to_have_text("Manual")  # the feed's batch names its source
    expect(page.locator("#live-price .amount")).to_have_text("123.45")
    expect(chart).to_have_attribute("data-last-close", "123.45")
    assert fetched == [], fetched
    feed_at = next(
        p["at"] for m in tap.to_page if m["type"] == "prices" for p in m["prices"] if p["price"] == "123.45"
    )
    assert rows.first.locator("time").get_attribute("datetime") == feed_at

    # when: the shopper picks EUR
    page.get_by_label("Currency").select_option("EUR")
    # then: the chart and its bounds in EUR (converted at the page's rate), the table still in USD
    expect(chart).to_have_attribute("data-bounds", "92.00 119.60")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(page.locator("#live-price .ccy")).to_have_text("EUR")
    until(page, lambda: len(tap.connections) >= 3)  # the page's feed in EUR, the table's in USD
    currencies = sorted(parse_qs(urlsplit(ws.url).query)["currency"][0] for ws in tap.connections[-2:])
    assert currencies == ["EUR", "USD"]
    expect(page.locator("#live-price .amount")).to_have_text("113.57")  # 123.45 × 0.92
    # and a new price reaches the table in the base currency, the live price in EUR, still no refetch
    page.wait_for_load_state("networkidle")
    fetched.clear()
    status, _ = call(server, "POST", "/api/prices/", token=token, body={"goods": lamp.id, "amount": "110.00"})
    assert status == 201
    expect(rows).to_have_count(22)
    expect(rows.first.locator("td").nth(1)).to_have_text("110.00")
    expect(page.locator("#live-price .amount")).to_have_text("101.20")
    expect(chart).to_have_attribute("data-last-close", "101.20")
    assert [path for path in fetched if path.startswith("/api/prices")] == [], fetched
    assert_accessible(page)
    console.assert_clean()
