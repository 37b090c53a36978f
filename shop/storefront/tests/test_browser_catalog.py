"""The board at catalog scale and the goods pages in Chromium, under the production CSP, checked by axe."""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from shop.accounts.tests.helpers import PASSWORD as FACTORY_PASSWORD
from shop.storefront.tests.browser import (
    Console,
    FeedTap,
    access_token,
    assert_accessible,
    call,
    enforce_csp,
    goods_row,
    screenshot,
    until,
)
from shop.storefront.tests.catalog import catalog_create, history_seed
from shop.storefront.tests.conftest import Tab
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TICKING = {"PRICE_TICKER": "inprocess", "PRICE_TICK_SECONDS": "1"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def feed_goods(ws: WebSocketRoute) -> list[int]:
    """The goods a feed connection of the page asked for (``?goods=``)."""
    values = parse_qs(urlsplit(ws.url).query, keep_blank_values=True).get("goods", [])
    assert values, f"the page asked for every goods: {ws.url}"
    return [int(g) for g in values[0].split(",") if g]


def priced_goods(tap: FeedTap) -> set[int]:
    return {p["goods"] for m in tap.to_page if m["type"] in ("snapshot", "prices") for p in m["prices"]}


def follows(page: Page, tap: FeedTap, ids: list[int]) -> None:
    """The page subscribed to exactly these goods, and the feed's next batch carries no others."""
    until(page, lambda: any(m.get("action") == "subscribe" and m.get("goods") == ids for m in tap.from_page))
    request = [m for m in tap.from_page if m.get("action") == "subscribe" and m.get("goods") == ids][-1]
    until(page, lambda: any(m["type"] == "snapshot" and m.get("id") == request["id"] for m in tap.to_page))
    start = next(i for i, m in enumerate(tap.to_page) if m.get("id") == request["id"])
    until(page, lambda: any(m["type"] == "prices" and m["prices"] for m in tap.to_page[start:]))
    after = [m for m in tap.to_page[start:] if m["type"] in ("snapshot", "prices")]
    assert {p["goods"] for m in after for p in m["prices"]} == set(ids)


def both_sizes(page: Page, name: str) -> None:
    """Screenshots at desktop size (what the screen shows) and phone size (the whole page);
    on the phone nothing is wider than the screen."""
    screenshot(page, f"{name}-desktop", full_page=False)
    page.set_viewport_size(PHONE)
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
             .filter((el) => el.getBoundingClientRect().right > width)
             .map((el) => `${el.tagName}#${el.id}.${el.className?.baseVal ?? el.className}`)""",
        PHONE["width"],
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def last_candle_close(page: Page) -> str | None:
    """The newest candle's close as the chart drew it (chart.js mirrors it in data-last-close)."""
    return page.locator("#chart").get_attribute("data-last-close")


def candle_count(page: Page) -> int:
    return int(page.locator("#chart").get_attribute("data-candles") or 0)


@pytest.mark.server_env(**TICKING)
def test_board_pages_search_and_a_goods_page(server: str, tab: Tab, console: Console) -> None:
    # given: 120 goods that a running sale reprices every second; one of them with 3 hours of history
    CurrencyFactory(code="EUR", rate="0.92")
    goods = catalog_create(120, in_sale=True, min_price="100.00", max_price="130.00")
    lamp = goods[114]
    seeded = history_seed(lamp, hours=3)
    page = tab.open()
    enforce_csp(page)
    tap = FeedTap()
    tap.install(page)

    # when: the board opens
    page.goto(f"{server}/")
    # then: 50 rows, a Next page link and no Previous page link
    rows = page.locator("#goods > li")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Goods 00001")
    expect(page.get_by_role("link", name="Next page")).to_be_visible()
    expect(page.get_by_role("link", name="Previous page")).to_have_count(0)
    # the feed follows the 50 goods on screen, and only them
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    on_screen = [g.id for g in goods[:50]]
    assert feed_goods(tap.connections[0]) == on_screen
    until(page, lambda: any(m["type"] == "prices" and m["prices"] for m in tap.to_page))
    assert priced_goods(tap) <= set(on_screen)
    expect(page.locator("#goods > li.flash[data-move]").first).to_be_visible()
    assert_accessible(page)
    both_sizes(page, "board")

    # when: the next page
    page.get_by_role("link", name="Next page").click()
    # then: the next 50, and the same feed connection follows those instead
    expect(page).to_have_url(f"{server}/?page=2")
    expect(rows.first).to_contain_text("Goods 00051")
    expect(rows).to_have_count(50)
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    expect(page.get_by_role("heading", name="Live prices")).to_be_focused()
    second = [g.id for g in goods[50:100]]
    follows(page, tap, second)
    assert len(tap.connections) == 1
    # and the browser's Back button brings the first page back, feed included
    page.go_back()
    expect(rows.first).to_contain_text("Goods 00001")
    follows(page, tap, on_screen)
    page.go_forward()
    expect(rows.first).to_contain_text("Goods 00051")
    follows(page, tap, second)
    # a link within the page (#cart, #account) is no page change: nothing is fetched, the focus stays
    fetched: list[str] = []
    page.on(
        "request", lambda r: r.resource_type == "fetch" and "/api/" not in r.url and fetched.append(r.url)
    )
    page.evaluate("location.hash = '#cart'")
    page.get_by_role("link", name="Next page").click()
    expect(rows.first).to_contain_text("Goods 00101")
    assert fetched == [f"{server}/?page=3"], fetched
    page.go_back()  # the #cart entry of page 2
    page.go_back()  # page 2
    expect(rows.first).to_contain_text("Goods 00051")

    # when: searching
    search = page.get_by_role("searchbox", name="Search")
    search.fill("goods 0011")
    search.press("Enter")
    # then: ten goods, and the search lives in the address
    expect(page).to_have_url(re.compile(r"/\?search=goods\+0011$"))
    expect(rows).to_have_count(10)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("goods 0011")

    # when: following a goods' link (its accessible name is the goods' name)
    goods_row(page, "Goods 00115").get_by_role("link", name="Goods 00115").click()
    # then: its page, with its live price, its chart and its newest prices
    expect(page).to_have_url(f"{server}/goods/{lamp.id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Goods 00115")
    expect(page.get_by_text("Item number 115 of the catalog.")).to_be_visible()
    chart = page.get_by_role("img", name="Price history")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart).to_have_attribute("data-interval", "1m")
    assert candle_count(page) >= 100  # 3 hours of history in one-minute candles
    expect(chart.locator("canvas").first).to_be_visible()  # drawn by the chart library
    history = page.get_by_role("table").locator("tbody tr")
    until(page, lambda: history.count() >= 20)
    # a row the feed brought names its source as the first page's rows do
    expect(history.first.locator("td").nth(2)).to_have_text(re.compile(r"^(Tick|Manual)$"))
    # a price flash within one tick, and the newest candle follows it
    live = page.locator("#live-price")
    expect(live).to_have_attribute("data-move", re.compile(r"^(up|down)$"))
    expect(live).to_have_class(re.compile(r"\bflash\b"))
    until(page, lambda: last_candle_close(page) == live.locator(".amount").inner_text())
    assert feed_goods(tap.connections[-1]) == [lamp.id]
    both_sizes(page, "goods-page")

    # when: 1h
    with page.expect_response(re.compile(r"/api/goods/\d+/candles/\?interval=1h&")) as answer:
        page.get_by_role("button", name="1h").click()
    # then: the chart shows hours
    assert answer.value.ok
    expect(page.get_by_role("button", name="1h")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="1m")).to_have_attribute("aria-pressed", "false")
    expect(chart).to_have_attribute("data-interval", "1h")
    expect(chart).to_have_attribute("data-state", "ready")
    assert 3 <= candle_count(page) <= 5
    expect(page.locator("#chart-summary")).to_contain_text("1-hour candles")

    # when: Load more, twice
    shown = history.count()
    oldest = history.last.locator("time").get_attribute("datetime") or ""
    page.get_by_role("button", name="Load more").click()
    # then: older rows below the others
    until(page, lambda: history.count() >= shown + 20)
    older = history.last.locator("time").get_attribute("datetime") or ""
    assert older < oldest, (older, oldest)
    page.get_by_role("button", name="Load more").click()
    until(page, lambda: history.count() >= shown + 40)
    assert seeded > shown + 40
    assert_accessible(page)
    console.assert_clean()


@pytest.mark.server_env(PRICE_TICKER="inprocess", PRICE_TICK_SECONDS="2")
def test_a_board_of_10000_ticking_goods_flashes_on_the_first_tick(
    server: str, tab: Tab, console: Console
) -> None:
    # given: 10,000 goods in a running sale
    catalog_create(10_000, in_sale=True)
    page = tab.open()
    enforce_csp(page)
    tap = FeedTap()
    tap.install(page)
    page.add_init_script(
        """new MutationObserver((changes) => {
             for (const change of changes) {
               const li = change.target;
               if (window.firstFlash || !li.classList?.contains("flash")) continue;
               window.firstFlash = {goods: Number(li.dataset.goods), price: li.querySelector(".amount").textContent};
             }
           }).observe(document, {subtree: true, attributes: true, attributeFilter: ["class"]});"""
    )
    # when
    response = page.goto(f"{server}/")
    # then: a small page, a feed of its 50 goods only, and a flash from the first batch it receives
    assert response is not None and len(response.body()) < 200_000
    expect(page.locator("#goods > li")).to_have_count(50)
    until(page, lambda: page.evaluate("window.firstFlash"))
    first: dict[str, Any] = page.evaluate("window.firstFlash")
    snapshot = next(m for m in tap.to_page if m["type"] == "snapshot")
    assert len(snapshot["prices"]) == 50  # not the other 9,950
    # A tick of 10,000 goods is two batches (chunks of 5,000): the first batch the page gets can be
    # the second half of a tick, which has none of its goods. So: its first batch with prices.
    batches = [m for m in tap.to_page if m["type"] == "prices" and m["prices"]]
    # the flash shows a price from the snapshot or from the first tick after it, not a later one
    earliest = [snapshot, *batches[:1]]
    assert {"goods": first["goods"], "price": first["price"]} in [
        {"goods": p["goods"], "price": p["price"]} for m in earliest for p in m["prices"]
    ], (first, earliest)
    console.assert_clean()


@pytest.mark.server_env(PRICE_TICKER="off")  # only the test sets prices
def test_a_board_page_with_a_goods_that_has_no_price_yet(server: str, tab: Tab, console: Console) -> None:
    # given: 54 priced goods and a newcomer without a price, on the second page of the board
    catalog_create(54)
    newcomer = GoodsFactory(name="Goods 00055 (new)")
    staff = UserFactory(is_staff=True)
    page = tab.open()
    tap = FeedTap()
    tap.install(page)
    page.goto(f"{server}/")
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    # when: the next page; the feed refuses to subscribe to a goods without a price
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#goods > li")).to_have_count(5)
    # then: the page connects again with the ids in the address, which takes it
    until(page, lambda: len(tap.connections) == 2)
    assert newcomer.id in feed_goods(tap.connections[1])
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    row = goods_row(page, "Goods 00055 (new)")
    expect(row.locator(".amount")).to_have_text("—")
    expect(row.get_by_role("button", name="Add to cart")).to_be_disabled()
    # and the newcomer's first price reaches it
    token = access_token(server, staff.email, FACTORY_PASSWORD)
    status, _ = call(
        server, "POST", "/api/prices/", token=token, body={"goods": newcomer.id, "amount": "12.50"}
    )
    assert status == 201
    expect(row.locator(".amount")).to_have_text("12.50")
    expect(row.get_by_role("button", name="Add to cart")).to_be_enabled()
    console.assert_clean()
