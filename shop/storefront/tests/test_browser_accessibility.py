"""axe-core and the keyboard on every storefront page a shopper goes through, under the production CSP."""

import re

import pytest
from playwright.sync_api import expect

from shop.accounts.tests.helpers import PASSWORD as FACTORY_PASSWORD
from shop.catalog.models import Goods
from shop.storefront.tests.browser import (
    Console,
    access_token,
    assert_accessible,
    axe_problems,
    call,
    enforce_csp,
    goods_row,
    log_in,
    tab_to,
)
from shop.storefront.tests.catalog import history_seed
from shop.storefront.tests.conftest import TICKING, Tab
from shop.tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.server_env(**TICKING)]


def test_board_cart_checkout_orders_and_goods_page_pass_axe_and_the_keyboard(
    server: str, demo_shop: None, tab: Tab, console: Console
) -> None:
    # given: the demo shop, its sale ticking, a shopper, an espresso machine with an hour of history
    shopper = UserFactory()
    espresso = Goods.objects.get(name="Espresso machine")
    chess = Goods.objects.get(name="Chess set")
    history_seed(espresso, hours=1)
    page = tab.open()
    enforce_csp(page)

    # the board, logged out; its search and sort from the keyboard
    page.goto(f"{server}/")
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    assert_accessible(page)
    tab_to(page, "searchbox", "Search")
    page.keyboard.type("e")
    tab_to(page, "combobox", "Sort by")
    page.keyboard.press("ArrowDown")  # price, low to high
    tab_to(page, "button", "Show")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/?search=e&sort=price")
    expect(page.locator("#goods > li")).to_have_count(9)  # not "Backpack 30 l", "Yoga mat", "Smart watch"
    names = page.locator("#goods .goods-name").all_inner_texts()
    assert all("e" in name.lower() for name in names), names
    tab_to(page, "link", names[0])
    # the cart
    log_in(page, shopper.email, FACTORY_PASSWORD)
    goods_row(page, "Chess set").get_by_role("button", name="Add to cart").click()
    cart = page.get_by_role("region", name="Cart")
    expect(cart.get_by_role("listitem").filter(has_text="Chess set")).to_have_count(1)
    expect(page.locator("#cart-sum")).to_have_text(re.compile(r"^\d+\.\d\d USD$"))
    assert_accessible(page)
    # checkout and the orders
    page.get_by_role("button", name="Checkout").click()
    expect(page.locator("#placed").get_by_role("article")).to_be_visible()
    orders = page.get_by_role("region", name="Orders")
    expect(orders.get_by_role("article")).to_have_count(1)
    assert_accessible(page)
    # an order's line links to its goods' page
    link = orders.get_by_role("link", name="Chess set", exact=True)
    expect(link).to_have_attribute("href", f"/goods/{chess.id}/")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chess set")
    expect(page.get_by_role("img", name="Price history")).to_have_attribute("data-state", "ready")
    assert_accessible(page)

    # the espresso machine's page, from the keyboard alone
    page.goto(f"{server}/goods/{espresso.id}/")
    chart = page.get_by_role("img", name="Price history")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(page.get_by_role("button", name="Load more")).to_be_visible()
    tab_to(page, "link", "Skip to content")
    tab_to(page, "combobox", "Currency")
    tab_to(page, "spinbutton", "Quantity")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    tab_to(page, "button", "Add to cart")
    page.keyboard.press("Enter")
    expect(page.locator("#buy-message")).to_have_text(
        "2 × Espresso machine added to your cart. See your cart"
    )
    tab_to(page, "button", "1m")
    tab_to(page, "button", "1h")
    page.keyboard.press("Enter")
    expect(chart).to_have_attribute("data-interval", "1h")
    expect(page.get_by_role("button", name="1h")).to_have_attribute("aria-pressed", "true")
    tab_to(page, "button", "1d")
    page.keyboard.press("Space")
    expect(chart).to_have_attribute("data-interval", "1d")
    expect(chart).to_have_attribute("data-state", "ready")
    rows = page.get_by_role("table").locator("tbody tr")
    shown = rows.count()
    tab_to(page, "button", "Load more")
    page.keyboard.press("Enter")
    expect(page.locator("#history-message")).to_contain_text("older prices added")
    assert rows.count() >= shown + 20
    assert_accessible(page)
    # the cart on the server holds what the keyboard ordered
    status, quote = call(
        server, "GET", "/api/cart/", token=access_token(server, shopper.email, FACTORY_PASSWORD)
    )
    assert status == 200
    assert [(i["goods_name"], i["quantity"]) for i in quote["items"]] == [("Espresso machine", 2)]

    # a goods that is not in the shop: the shop's own 404 page
    response = page.goto(f"{server}/goods/987654/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We cannot find that page")
    assert_accessible(page)
    page.get_by_role("link", name="Browse all goods").click()
    expect(page.get_by_role("heading", name="Live prices")).to_be_visible()
    console.assert_clean(http_statuses=(404,))

    # and axe does see a problem where there is one: an input without a name, a button without text
    page.evaluate(
        """() => document.querySelector("#goods").before(
             Object.assign(document.createElement("input"), {type: "text"}),
             document.createElement("button"))"""
    )
    assert {v["id"] for v in axe_problems(page)} >= {"label", "button-name"}
