"""A shopper in Chromium: register, activate, log in, fill the cart, check out, see the orders."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from shop.accounts.tests.helpers import PASSWORD as FACTORY_PASSWORD
from shop.accounts.tests.helpers import Mailbox, link_in
from shop.storefront.tests.browser import (
    ARTIFACTS,
    PASSWORD,
    Console,
    FeedTap,
    access_token,
    call,
    goods_row,
    log_in,
    until,
)
from shop.storefront.tests.conftest import TICKING, Tab
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@contextmanager
def referers_of(page: Page) -> Iterator[list[str]]:
    """The Referer of every request the page makes meanwhile ("" when it sends none)."""
    referers: list[str] = []

    def seen(request: Request) -> None:
        referers.append(request.headers.get("referer", ""))

    page.on("request", seen)
    try:
        yield referers
    finally:
        page.remove_listener("request", seen)


def assert_no_token_in(referers: list[str], link: str) -> None:
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert len(token) > 10 and len(referers) > 3, (link, referers)  # the page, its files, the API
    assert not [referer for referer in referers if token in referer], referers


@pytest.mark.server_env(**TICKING)
def test_register_activate_log_in_and_check_out(
    server: str, demo_shop: None, tab: Tab, console: Console, tmp_path: Path
) -> None:
    # given: the demo shop, its sale ticking every second
    email = "new.shopper@example.com"
    page = tab.open()
    page.goto(f"{server}/")

    # register: an activation e-mail goes out
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#account-message")).to_contain_text(f"we sent an activation link to {email}")
    mailbox = Mailbox(tmp_path / "mail")
    until(page, lambda: mailbox.to(email))
    link = link_in(mailbox.to(email)[0], f"{server}/activate/")

    # the link from the e-mail activates the account
    with referers_of(page) as referers:
        page.goto(link)
        expect(page.get_by_role("status")).to_have_text("Your account is active. You can log in now.")
        # its token left the address bar once read, and no request named it as its Referer
        expect(page).to_have_url(f"{server}/activate/")
        page.get_by_role("link", name="Go to the shop and log in").click()
        expect(page).to_have_url(f"{server}/")
    assert_no_token_in(referers, link)

    # log in: the tokens live in this tab's sessionStorage only
    log_in(page, email)
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(email)
    expect(page.get_by_role("link", name="Admin")).to_be_hidden()
    assert page.evaluate("Object.keys(sessionStorage).sort()") == [
        "tickshop.access",
        "tickshop.refresh",
        "tickshop.renewAt",
    ]
    assert page.evaluate("Object.keys(localStorage)") == []
    page.get_by_label("Currency").select_option("EUR")
    expect(page).to_have_url(f"{server}/?currency=EUR")
    cart = page.get_by_role("region", name="Cart")
    you_pay = page.locator("#cart-sum")

    # a goods of the running sale: the cart's quote follows its ticks
    goods_row(page, "Espresso machine").get_by_role("button", name="Add to cart").click()
    espresso = cart.get_by_role("listitem").filter(has_text="Espresso machine")
    expect(espresso).to_have_count(1)
    expect(you_pay).to_have_text(re.compile(r"^\d+\.\d\d EUR$"))
    quoted = you_pay.inner_text()
    expect(you_pay).not_to_have_text(quoted)
    espresso.get_by_role("button", name="Remove").click()
    expect(espresso).to_have_count(0)

    # goods with a steady price, three of them
    goods_row(page, "Chess set").get_by_role("button", name="Add to cart").click()
    chess = cart.get_by_role("listitem").filter(has_text="Chess set")
    expect(chess.get_by_label("Quantity")).to_have_value("1")
    chess.get_by_label("Quantity").fill("3")
    chess.get_by_label("Quantity").press("Tab")
    expect(chess.locator(".line-total")).to_have_text("195.00 USD")
    # 195.00 + 30 % + 10.10 = 263.60 USD, × 0.92 = 242.512 → 242.51 EUR (SPEC §4)
    expect(you_pay).to_have_text("242.51 EUR")

    # checkout: sends the sum on the screen as the most it may cost
    with page.expect_request(re.compile(r"/api/cart/checkout/$")) as sent:
        page.get_by_role("button", name="Checkout").click()
    assert sent.value.post_data_json == {"currency": "EUR", "max_order_sum": "242.51"}
    placed = page.locator("#placed").get_by_role("article")
    expect(placed).to_contain_text("242.51 EUR")
    order_id = int(placed.get_attribute("data-order") or 0)
    page.screenshot(path=ARTIFACTS / "checkout-placed.png", full_page=True)

    # the order on the page is the API's order
    status, order = call(server, "GET", f"/api/orders/{order_id}/", token=access_token(server, email))
    assert status == 200, order
    assert (order["status"], order["currency"], order["order_sum"]) == ("placed", "EUR", "242.51")
    assert [(i["goods_name"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
        ("Chess set", 3, "65.00")
    ]
    assert (order["subtotal"], order["fee"], Decimal(order["exchange_rate"])) == (
        "195.00",
        "10.10",
        Decimal("0.92"),
    )
    for shown in (order["subtotal"], order["markup"], order["fee"], order["total"]):
        expect(placed).to_contain_text(f"{shown} USD")
    expect(placed).to_contain_text(f"1 USD = {order['exchange_rate']} EUR")
    orders = page.get_by_role("region", name="Orders")
    mine = orders.get_by_role("article").filter(has_text=f"Order #{order_id}")
    expect(mine).to_have_count(1)
    expect(mine.locator(".status")).to_have_text("placed")
    expect(mine.locator(".order-sum-value")).to_have_text("242.51 EUR")
    expect(mine.get_by_role("row").filter(has_text="Chess set")).to_contain_text("3")
    expect(cart.get_by_text("Your cart is empty.")).to_be_visible()

    # log out: the server revokes the refresh token, and the session is gone from the tab
    refresh = page.evaluate("sessionStorage.getItem('tickshop.refresh')")
    with page.expect_response(re.compile(r"/auth/jwt/blacklist/$")) as revoked:
        page.get_by_role("button", name="Log out").click()
    assert revoked.value.status == 200
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage)") == []
    assert call(server, "POST", "/auth/jwt/refresh/", body={"refresh": refresh}) == (
        401,
        {"detail": "Token is blacklisted", "code": "token_not_valid"},
    )
    expect(orders).to_be_hidden()
    console.assert_clean()


@pytest.mark.server_env(PRICE_TICKER="off")  # only the test moves prices
def test_checkout_refuses_a_higher_sum_and_explains(server: str, tab: Tab, console: Console) -> None:
    # given: a shopper, a staff member, a lamp at 100.00 USD
    CurrencyFactory(code="EUR", name="Euro", rate="0.92")
    lamp = GoodsFactory(name="Desk lamp", price="100.00")
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    staff_token = access_token(server, staff.email, FACTORY_PASSWORD)
    page = tab.open()
    tap = FeedTap()
    tap.install(page)
    page.goto(f"{server}/?currency=EUR")
    log_in(page, shopper.email, FACTORY_PASSWORD)
    goods_row(page, "Desk lamp").get_by_role("button", name="Add to cart").click()
    you_pay = page.locator("#cart-sum")
    expect(you_pay).to_have_text("128.89 EUR")  # SPEC §4's worked example

    # when: the price goes up, and the news has not reached this page yet
    tap.hold_batches = True
    status, _ = call(
        server, "POST", "/api/prices/", token=staff_token, body={"goods": lamp.id, "amount": "110.00"}
    )
    assert status == 201
    until(page, lambda: tap.dropped)
    expect(you_pay).to_have_text("128.89 EUR")
    page.get_by_role("button", name="Checkout").click()

    # then: nothing is ordered, and the page says why, with the new sum and a button to accept it
    # 110.00 + 33.00 + 10.10 = 153.10 USD × 0.92 = 140.852 → 140.85 EUR
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The price went up while you were looking")
    expect(alert).to_contain_text("you saw 128.89 EUR, the order now costs 140.85 EUR. Nothing was ordered.")
    token = access_token(server, shopper.email, FACTORY_PASSWORD)
    assert call(server, "GET", "/api/orders/", token=token)[1]["count"] == 0
    accept = page.get_by_role("button", name="Accept 140.85 EUR and order")
    expect(accept).to_be_focused()
    with page.expect_request(re.compile(r"/api/cart/checkout/$")) as sent:
        accept.click()
    assert sent.value.post_data_json == {"currency": "EUR", "max_order_sum": "140.85"}
    placed = page.locator("#placed").get_by_role("article")
    expect(placed).to_contain_text("140.85 EUR")
    expect(alert).to_be_hidden()
    orders = call(server, "GET", "/api/orders/", token=token)[1]["results"]
    assert [(o["order_sum"], o["items"][0]["unit_price"]) for o in orders] == [("140.85", "110.00")]
    expect(page.get_by_role("region", name="Orders").get_by_role("article")).to_have_count(1)

    # and when batches flow again, the page notices the one it missed and catches up
    tap.hold_batches = False
    status, _ = call(
        server, "POST", "/api/prices/", token=staff_token, body={"goods": lamp.id, "amount": "120.00"}
    )
    assert status == 201
    expect(goods_row(page, "Desk lamp").locator(".amount")).to_have_text("110.40")
    until(page, lambda: tap.resubscriptions())
    console.assert_clean(http_statuses=(409,))


@pytest.mark.server_env
def test_forgotten_password_and_staff_links(server: str, tab: Tab, console: Console, tmp_path: Path) -> None:
    # given: a staff member who forgot the password
    CurrencyFactory(code="EUR", rate="0.92")
    GoodsFactory(name="Desk lamp", price="45.00")
    staff = UserFactory(is_staff=True)
    page = tab.open()
    page.goto(f"{server}/")

    # a wrong password is explained, and a reset link is sent
    log_in_button = page.get_by_role("button", name="Log in")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill("not the password")
    log_in_button.click()
    expect(page.locator("#account-message")).to_contain_text("do not match an active account")
    page.get_by_role("button", name="Forgot password?").click()
    expect(page.locator("#account-message")).to_contain_text("a link to choose a new password is on its way")
    mailbox = Mailbox(tmp_path / "mail")
    until(page, lambda: mailbox.to(staff.email))
    link = link_in(mailbox.to(staff.email)[0], f"{server}/password-reset/")

    # the reset page sets the new password, its token out of the address bar and of every Referer
    with referers_of(page) as referers:
        page.goto(link)
        expect(page).to_have_url(f"{server}/password-reset/")
        page.get_by_label("New password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the new password").fill(PASSWORD)
        page.get_by_role("button", name="Set the new password").click()
        expect(page.get_by_role("status")).to_have_text("Your password is changed. Log in with the new one.")
        page.get_by_role("link", name="Go to the shop and log in").click()
        expect(page).to_have_url(f"{server}/")
    assert_no_token_in(referers, link)

    # staff see the admin and the API docs
    log_in(page, staff.email, PASSWORD)
    expect(page.get_by_role("link", name="Admin")).to_have_attribute("href", "/admin/")
    expect(page.get_by_role("link", name="API docs")).to_have_attribute("href", "/api/docs/")
    expect(page.get_by_role("link", name="Orders", exact=True)).to_be_visible()

    # when the access token is due, the page refreshes it first; the refresh token rotates
    old_refresh = page.evaluate("sessionStorage.getItem('tickshop.refresh')")
    assert old_refresh
    page.evaluate("sessionStorage.setItem('tickshop.renewAt', '0')")
    with page.expect_response(re.compile(r"/auth/jwt/refresh/$")) as refreshed:
        page.get_by_label("Currency").select_option("EUR")  # re-quotes the cart
    assert refreshed.value.status == 200
    expect(page.locator("#cart-empty")).to_have_text("Your cart is empty.")
    # the page stores the rotated token once it has read the answer's body, after the response
    until(
        page, lambda: page.evaluate("sessionStorage.getItem('tickshop.refresh')") not in (old_refresh, None)
    )
    assert call(server, "POST", "/auth/jwt/refresh/", body={"refresh": old_refresh})[0] == 401  # blacklisted
    console.assert_clean(http_statuses=(401,))


@pytest.mark.server_env
def test_readable_on_a_phone_and_usable_by_keyboard(server: str, tab: Tab, console: Console) -> None:
    # given: a shopper on a phone-sized screen
    CurrencyFactory(code="EUR", rate="0.92")
    GoodsFactory(name="Desk lamp", price="45.00")
    GoodsFactory(name="Noise-cancelling headphones with a long name", price="199.00")
    shopper = UserFactory()
    page = tab.open(width=390, height=844)
    page.goto(f"{server}/")
    # nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the account form is one link away, and works from the keyboard alone
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_label("Email")).to_be_in_viewport()
    page.get_by_label("Email").focus()
    page.keyboard.type(shopper.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(FACTORY_PASSWORD)
    page.keyboard.press("Enter")  # the form's first button: Log in
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    add = goods_row(page, "Desk lamp").get_by_role("button", name="Add to cart")
    add.focus()
    page.keyboard.press("Enter")
    quantity = page.get_by_role("region", name="Cart").get_by_label("Quantity")
    expect(quantity).to_have_value("1")
    quantity.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    expect(page.locator("#cart-lines .line-total")).to_have_text("90.00 USD")
    expect(page.get_by_role("button", name="Remove")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Cart").get_by_role("listitem")).to_have_count(0)
    expect(page.get_by_role("heading", name="Cart")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    console.assert_clean()
