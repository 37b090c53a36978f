"""The live board in Chromium: prices that move, the flash and arrow, sparklines, a feed that heals."""

import re

import pytest
from playwright.sync_api import expect

from shop.storefront.tests.browser import Console, FeedTap, call, goods_row, until
from shop.storefront.tests.conftest import TICKING, Tab

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.server_env(**TICKING)
def test_prices_move_with_flash_arrow_and_sparkline(
    server: str, demo_shop: None, tab: Tab, console: Console
) -> None:
    # given: the demo shop, whose running sale reprices eight goods every second
    # when
    page = tab.open()
    page.goto(f"{server}/")
    # then: the feed is live and a goods of the sale changes price on the page within a few ticks
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    espresso = goods_row(page, "Espresso machine")
    amount = espresso.locator(".amount")
    first = amount.inner_text()
    expect(amount).not_to_have_text(first)
    expect(espresso).to_have_attribute("data-move", re.compile(r"^(up|down)$"))
    expect(espresso).to_have_class(re.compile(r"\bflash\b"))
    expect(espresso.locator(".move")).to_have_text(re.compile(r"^[▲▼]$"))
    expect(espresso.locator(".move-text")).to_have_text(re.compile(r"^(up|down) from \d+\.\d\d$"))
    expect(espresso.get_by_role("button", name="Add to cart")).to_be_enabled()
    # a sparkline of its history, growing with the ticks
    expect(espresso.locator("svg.spark polyline")).to_have_count(1)
    points = lambda: len(espresso.locator("svg.spark polyline").get_attribute("points").split())  # noqa: E731
    seen = points()
    assert seen >= 2
    until(page, lambda: points() > seen or points() == 30)
    expect(espresso.get_by_role("img")).to_have_attribute("aria-label", re.compile(r"^Price trend over"))
    # a goods outside the sale keeps its price, with no arrow
    chess = goods_row(page, "Chess set")
    expect(chess.locator(".amount")).to_have_text("65.00")
    expect(chess.locator(".move")).to_have_text("")

    # when: the shopper picks another currency
    page.get_by_label("Currency").select_option("EUR")
    # then: the board shows EUR, as the API does, and keeps moving
    expect(page).to_have_url(re.compile(r"\?currency=EUR$"))
    status, listed = call(server, "GET", "/api/goods/?currency=EUR&search=Chess")
    assert status == 200
    expect(chess.locator(".amount")).to_have_text(listed["results"][0]["price"])  # 59.80
    expect(chess.locator(".ccy")).to_have_text("EUR")
    expect(espresso.locator(".ccy")).to_have_text("EUR")
    # and its link leads to the goods' page in EUR too
    expect(chess.get_by_role("link", name="Chess set")).to_have_attribute(
        "href", re.compile(r"^/goods/\d+/\?currency=EUR$")
    )
    in_eur = amount.inner_text()
    expect(amount).not_to_have_text(in_eur)
    # and the choice survives a reload
    page.reload()
    expect(page.get_by_label("Currency")).to_have_value("EUR")
    expect(goods_row(page, "Chess set").locator(".amount")).to_have_text("59.80")
    console.assert_clean()


@pytest.mark.server_env(**TICKING)
def test_feed_resyncs_on_a_seq_gap_and_reconnects_when_dropped(
    server: str, demo_shop: None, tab: Tab, console: Console
) -> None:
    # given: the page's feed passes through a tap that can lose batches and cut the line
    page = tab.open()
    tap = FeedTap()
    tap.install(page)
    page.goto(f"{server}/")
    status = page.locator("#feed-status")
    expect(status).to_have_attribute("data-state", "live")
    until(page, lambda: any(m["type"] == "prices" for m in tap.to_page))
    assert tap.resubscriptions() == []

    # when: one batch is lost on the way
    tap.drop_batches = 1
    # then: the next one shows a gap in seq, and the page subscribes again for a fresh snapshot
    until(page, lambda: tap.resubscriptions())
    request_id = tap.resubscriptions()[0]["id"]
    until(page, lambda: any(m["type"] == "snapshot" and m.get("id") == request_id for m in tap.to_page))
    assert len(tap.dropped) == 1
    expect(status).to_have_attribute("data-state", "live")

    # when: the connection drops
    page.evaluate(
        """() => {
          window.feedStates = [];
          const status = document.getElementById("feed-status");
          new MutationObserver(() => window.feedStates.push(status.dataset.state))
            .observe(status, {attributes: true, attributeFilter: ["data-state"]});
        }"""
    )
    tap.connections[0].close(code=1011, reason="server going away")
    # then: the page says so, waits a little and reconnects by itself, and prices move again
    until(page, lambda: len(tap.connections) == 2)
    expect(status).to_have_attribute("data-state", "live")
    states = page.evaluate("window.feedStates")
    assert states[:3] == ["waiting", "reconnecting", "live"], states
    espresso = goods_row(page, "Espresso machine").locator(".amount")
    now = espresso.inner_text()
    expect(espresso).not_to_have_text(now)
    console.assert_clean()
