"""Stock in Chromium (SPEC §13): "Only N left" and "Sold out" kept live by the feed on every open
board, the shopper cancelling an order, and a checkout refused for want of stock; axe stays clean."""

import re

import pytest
from playwright.sync_api import Page, expect

from shop.accounts.tests.helpers import PASSWORD as FACTORY_PASSWORD
from shop.storefront.tests.browser import (
    Console,
    access_token,
    assert_accessible,
    call,
    enforce_csp,
    goods_row,
    log_in,
)
from shop.storefront.tests.conftest import Tab
from shop.tests.factories import GoodsFactory, UserFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.server_env(PRICE_TICKER="off"),
]


def second_board(tab: Tab, console: Console, server: str) -> Page:
    """Another shopper's board, in a browser context of its own (its own session), never reloaded."""
    assert tab.page is not None
    browser = tab.page.context.browser
    assert browser is not None
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    console.watch(page)
    enforce_csp(page)
    page.goto(f"{server}/")
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    return page


def test_few_left_sold_out_live_and_the_shopper_cancels(server: str, tab: Tab, console: Console) -> None:
    # given: a desk lamp with 2 in stock, a chess set whose stock is not counted, a shopper
    lamp = GoodsFactory(name="Desk lamp", price="45.00", stock=2)
    GoodsFactory(name="Chess set", price="65.00")
    shopper = UserFactory()
    page = tab.open()
    enforce_csp(page)
    page.goto(f"{server}/")
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    lamp_row = goods_row(page, "Desk lamp")
    expect(lamp_row.locator(".stock")).to_have_text("Only 2 left")
    expect(goods_row(page, "Chess set").locator(".stock")).to_have_text("")
    other = second_board(tab, console, server)
    other_lamp = goods_row(other, "Desk lamp")
    expect(other_lamp.locator(".stock")).to_have_text("Only 2 left")
    expect(other_lamp.get_by_role("button", name="Add to cart")).to_be_enabled()
    assert_accessible(other)

    # when: the shopper buys both
    log_in(page, shopper.email, FACTORY_PASSWORD)
    lamp_row.get_by_role("button", name="Add to cart").click()
    line = page.get_by_role("region", name="Cart").get_by_role("listitem").filter(has_text="Desk lamp")
    line.get_by_label("Quantity").fill("2")
    line.get_by_label("Quantity").press("Tab")
    expect(line.locator(".line-total")).to_have_text("90.00 USD")
    page.get_by_role("button", name="Checkout").click()
    placed = page.locator("#placed").get_by_role("article")
    expect(placed).to_be_visible()
    order_id = int(placed.get_attribute("data-order") or 0)

    # then: the other board, never reloaded, shows the lamp sold out, still listed, its button disabled
    expect(other_lamp.locator(".stock")).to_have_text("Sold out")
    expect(other_lamp.get_by_role("button", name="Add to cart")).to_be_disabled()
    expect(other_lamp.locator(".amount")).to_have_text("45.00")
    expect(lamp_row.locator(".stock")).to_have_text("Sold out")
    expect(lamp_row.get_by_role("button", name="Add to cart")).to_be_disabled()
    assert_accessible(other)

    # the order is placed, and may be cancelled
    orders = page.get_by_role("region", name="Orders")
    mine = orders.get_by_role("article").filter(has_text=f"Order #{order_id}")
    expect(mine.locator(".status")).to_have_text("placed")
    cancel = mine.get_by_role("button", name="Cancel order")
    expect(cancel).to_be_enabled()
    assert_accessible(page)

    # when: the shopper cancels it
    with page.expect_response(re.compile(rf"/api/orders/{order_id}/cancel/$")) as answered:
        cancel.click()
    assert answered.value.status == 200

    # then: the order shows cancelled, with its history, and can no longer be cancelled
    expect(mine.locator(".status")).to_have_text("cancelled")
    expect(mine.get_by_role("list", name="Status history")).to_contain_text("placed → cancelled, by you")
    expect(mine.get_by_role("button", name="Cancel order")).to_have_count(0)
    expect(orders.get_by_role("status")).to_have_text(f"Order #{order_id} is cancelled.")
    # its units are back: both boards follow
    expect(other_lamp.locator(".stock")).to_have_text("Only 2 left")
    expect(other_lamp.get_by_role("button", name="Add to cart")).to_be_enabled()
    expect(lamp_row.locator(".stock")).to_have_text("Only 2 left")
    assert_accessible(page)
    token = access_token(server, shopper.email, FACTORY_PASSWORD)
    status, order = call(server, "GET", f"/api/orders/{order_id}/", token=token)
    assert (status, order["status"], [e["to"] for e in order["events"]]) == (200, "cancelled", ["cancelled"])
    status, goods = call(server, "GET", f"/api/goods/{lamp.id}/")
    assert (status, goods["available"]) == (200, 2)
    console.assert_clean()


def test_a_checkout_short_of_stock_says_what_is_left(server: str, tab: Tab, console: Console) -> None:
    # given: 3 desk lamps, a shopper with 3 of them in the cart
    lamp = GoodsFactory(name="Desk lamp", price="45.00", stock=3)
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    staff_token = access_token(server, staff.email, FACTORY_PASSWORD)
    page = tab.open()
    enforce_csp(page)
    page.goto(f"{server}/")
    log_in(page, shopper.email, FACTORY_PASSWORD)
    lamp_row = goods_row(page, "Desk lamp")
    expect(lamp_row.locator(".stock")).to_have_text("Only 3 left")
    lamp_row.get_by_role("button", name="Add to cart").click()
    line = page.get_by_role("region", name="Cart").get_by_role("listitem").filter(has_text="Desk lamp")
    line.get_by_label("Quantity").fill("3")
    line.get_by_label("Quantity").press("Tab")
    expect(line.locator(".line-total")).to_have_text("135.00 USD")

    # when: two of them go meanwhile (staff count them down), then the shopper checks out
    status, _ = call(server, "POST", f"/api/goods/{lamp.id}/stock/", token=staff_token, body={"add": -2})
    assert status == 200
    expect(lamp_row.locator(".stock")).to_have_text("Only 1 left")  # the board follows live
    with page.expect_response(re.compile(r"/api/cart/checkout/$")) as answered:
        page.get_by_role("button", name="Checkout").click()
    assert answered.value.status == 409

    # then: the page says which goods is short and how many are left; nothing was ordered
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not enough in stock; nothing was ordered.")
    expect(alert.get_by_role("listitem")).to_have_text(["Desk lamp: only 1 available."])
    expect(page.get_by_role("region", name="Orders").get_by_role("article")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="OK").click()
    expect(alert).to_be_hidden()
    token = access_token(server, shopper.email, FACTORY_PASSWORD)
    assert call(server, "GET", "/api/orders/", token=token)[1]["count"] == 0
    console.assert_clean(http_statuses=(409,))
