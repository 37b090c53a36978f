"""Price alerts and standing orders in Chromium (SPEC §15, issue 23 §4): set on a goods page, drawn
on its chart, fired or filled by a ticking sale, announced by a toast on the open page, listed on
/watch/; the page's feed authenticated as the shopper through reconnections and token refreshes.
Under the production CSP, checked by axe."""

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from shop.accounts.tests.helpers import PASSWORD as FACTORY_PASSWORD
from shop.storefront.tests.browser import (
    Console,
    FeedTap,
    access_token,
    assert_accessible,
    call,
    enforce_csp,
    log_in,
    until,
)
from shop.storefront.tests.conftest import TICKING, Tab
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The live server ticks every second and matches each batch in a thread of its own (embedded mode).
MATCHING = {**TICKING, "PRICE_MATCHING": "thread"}
# A crossing comes on a tick with a probability of about a quarter (see the sale below): a minute
# leaves no real chance of missing it.
CROSSING_MS = 60_000
AMOUNT = re.compile(r"\d+\.\d\d")


def ticking_goods(name: str) -> Any:
    """A goods in a running sale that draws a price in [10.00, 12.00] USD every tick."""
    goods = GoodsFactory(name=name, price="11.00")
    SaleFactory(goods=[goods], min_price=Decimal("10.00"), max_price=Decimal("12.00"))
    return goods


def logged_in_goods_page(page: Page, server: str, email: str, goods_id: int, query: str = "") -> None:
    """Log in on the board, then open the goods page (the session lives in the tab)."""
    page.goto(f"{server}/")
    log_in(page, email, FACTORY_PASSWORD)
    page.goto(f"{server}/goods/{goods_id}/{query}")
    expect(page.get_by_role("img", name="Price history")).to_have_attribute("data-state", "ready")
    expect(page.get_by_role("button", name="Alert me")).to_be_visible()


def feed_user(page: Page, user_id: int) -> None:
    """Wait until the page's feed says whom it is authenticated as."""
    expect(page.locator("#feed-status")).to_have_attribute("data-user", str(user_id))


@pytest.mark.server_env(**MATCHING, ALERTS_PER_USER="2")
def test_an_alert_set_on_the_goods_page_fires_with_a_toast_and_shows_triggered(
    server: str, tab: Tab, console: Console
) -> None:
    # given: euros at 0.5 a dollar, an espresso machine ticking in [10.00, 12.00] USD, that is
    # [5.00, 6.00] EUR, and a shopper on its page in euros
    CurrencyFactory(code="EUR", name="Euro", rate="0.5")
    espresso = ticking_goods("Espresso machine")
    shopper = UserFactory()
    page = tab.open()
    enforce_csp(page)
    logged_in_goods_page(page, server, shopper.email, espresso.id, "?currency=EUR")
    feed_user(page, shopper.id)
    chart = page.get_by_role("img", name="Price history")
    mine = page.locator("#mine-list")

    # two alerts that cannot fire: far above the sale
    for price in ("100.00", "150.00"):
        page.get_by_label("When the price is").select_option("above")
        page.get_by_label("Alert price (EUR)").fill(price)
        page.get_by_role("button", name="Alert me").click()
        expect(page.locator("#alert-message")).to_have_text(
            f"Alert set: we tell you when Espresso machine is at or above {price} EUR."
        )
    expect(mine.get_by_role("listitem")).to_have_count(2)
    # the cap of open alerts (ALERTS_PER_USER=2): the API's 409 is shown as it says it
    page.get_by_label("When the price is").select_option("below")
    page.get_by_label("Alert price (EUR)").fill("5.25")
    page.get_by_role("button", name="Alert me").click()
    expect(page.locator("#alert-message")).to_have_text("You have 2 open alerts already; delete one first.")
    # a wrong amount is explained before anything is sent
    page.get_by_label("Alert price (EUR)").fill("5,2x")
    page.get_by_role("button", name="Alert me").click()
    expect(page.locator("#alert-message")).to_have_text(
        "Alert price: enter an amount above 0 like 80.00, at most 2 decimals."
    )
    expect(page.get_by_label("Alert price (EUR)")).to_be_focused()
    # Delete on the goods page makes room
    expect(chart).to_have_attribute("data-marks", "alert 150.00,alert 100.00")  # newest first
    mine.get_by_role("listitem").filter(has_text="150.00 EUR").get_by_role(
        "button", name="Delete alert"
    ).click()
    expect(page.locator("#mine-message")).to_have_text("Deleted: Alert at or above 150.00 EUR.")
    expect(mine.get_by_role("listitem")).to_have_count(1)
    expect(chart).to_have_attribute("data-marks", "alert 100.00")

    # when: an alert just above the sale's minimum (5.25 EUR: 10.50 USD)
    page.get_by_label("Alert price (EUR)").fill("5.25")
    with page.expect_request(re.compile(r"/api/alerts/$")) as sent:
        page.get_by_role("button", name="Alert me").click()
    assert sent.value.post_data_json == {
        "goods": espresso.id,
        "currency": "EUR",
        "direction": "below",
        "price": "5.25",
    }
    expect(page.locator("#alert-message")).to_have_text(
        "Alert set: we tell you when Espresso machine is at or below 5.25 EUR."
    )
    # until it fires it is listed and drawn with the other, in the chart's currency (it may fire
    # on the very next tick: then the toast below says so)
    toast = page.locator("#toasts .toast").filter(has_text="Price alert")
    if toast.count() == 0:
        assert_accessible(page)

    # then: a tick crosses it, and a toast on this page says so
    expect(toast).to_have_count(1, timeout=CROSSING_MS)
    expect(page.locator("#toasts")).to_have_attribute("role", "status")
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    text = toast.inner_text()
    found = re.search(r"Espresso machine is at (\d+\.\d\d) EUR: at or below your 5\.25 EUR\.", text)
    assert found, text
    value = found.group(1)
    assert Decimal("5.00") <= Decimal(value) <= Decimal("5.25")
    # it left the open ones: the list and the chart keep only the other
    expect(mine.get_by_role("listitem")).to_have_count(1)
    expect(chart).to_have_attribute("data-marks", "alert 100.00")
    assert_accessible(page)

    # the toast leads to the alerts page, where it shows triggered, when, and at what
    toast.get_by_role("link", name="See your alerts").click()
    expect(page).to_have_url(f"{server}/watch/")
    alerts = page.get_by_role("region", name="Price alerts")
    fired = alerts.get_by_role("listitem").filter(has_text="Alert at or below 5.25 EUR")
    expect(fired.locator(".status")).to_have_text("triggered")
    expect(fired).to_contain_text(f"at {value} EUR")
    expect(fired.locator(".watch-outcome time")).to_have_count(1)
    expect(fired.get_by_role("link", name="Espresso machine")).to_have_attribute(
        "href", f"/goods/{espresso.id}/"
    )
    expect(
        page.get_by_role("region", name="Standing orders").get_by_text("No standing orders yet.")
    ).to_be_visible()
    assert_accessible(page)
    # as the API has it
    token = access_token(server, shopper.email, FACTORY_PASSWORD)
    status, listed = call(server, "GET", "/api/alerts/?status=triggered", token=token)
    assert status == 200
    assert [(a["price"], a["value"], a["currency"]) for a in listed["results"]] == [("5.25", value, "EUR")]
    assert listed["results"][0]["price_id"] is not None

    # Delete: the open alert goes, on the page and on the server
    still_open = alerts.get_by_role("listitem").filter(has_text="Alert at or above 100.00 EUR")
    still_open.get_by_role("button", name="Delete alert").click()
    expect(still_open).to_have_count(0)
    expect(page.locator("#watch-message")).to_have_text("The alert for Espresso machine is deleted.")
    expect(alerts.get_by_role("button", name="Delete alert")).to_be_focused()  # the next one's
    status, listed = call(server, "GET", "/api/alerts/?status=open", token=token)
    assert (status, listed["count"]) == (200, 0)
    console.assert_clean(http_statuses=(409,))


@pytest.mark.server_env(**MATCHING)
def test_a_standing_order_fills_at_or_below_its_limit_and_the_order_shows(
    server: str, tab: Tab, console: Console
) -> None:
    # given: a desk lamp ticking in [10.00, 12.00] USD, and a shopper on its page
    lamp = ticking_goods("Desk lamp")
    shopper = UserFactory()
    page = tab.open()
    enforce_csp(page)
    logged_in_goods_page(page, server, shopper.email, lamp.id)
    feed_user(page, shopper.id)
    chart = page.get_by_role("img", name="Price history")
    expect(page.get_by_label("Expires in")).to_have_value("86400")  # 24 hours unless chosen

    # when: "buy 2 at or below 10.60 USD", a limit the sale reaches now and then
    page.get_by_label("Quantity to buy").fill("2")
    page.get_by_label("Limit price (USD)").fill("10.60")
    with page.expect_request(re.compile(r"/api/standing-orders/$")) as sent:
        page.get_by_role("button", name="Place standing order").click()
    body = sent.value.post_data_json
    assert {k: body[k] for k in ("goods", "quantity", "currency", "limit_price")} == {
        "goods": lamp.id,
        "quantity": 2,
        "currency": "USD",
        "limit_price": "10.60",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["expires_at"]), body
    expect(page.locator("#standing-message")).to_contain_text(
        "Standing order placed: we buy 2 at or below 10.60 USD until"
    )

    # then: a tick reaches the limit, and a toast announces the fill with its order
    toast = page.locator("#toasts .toast").filter(has_text="Standing order filled")
    expect(toast).to_have_count(1, timeout=CROSSING_MS)
    text = toast.inner_text()
    found = re.search(
        r"You bought 2 × Desk lamp at (\d+\.\d\d) USD a unit \(your limit: 10\.60 USD\)\.", text
    )
    assert found, text
    unit_price = Decimal(found.group(1))
    assert Decimal("10.00") <= unit_price <= Decimal("10.60")
    expect(page.locator("#mine-empty")).to_have_text("None open.")  # filled: no longer open
    expect(chart).to_have_attribute("data-marks", "none")

    # another one, that the sale never reaches, is listed and drawn until it is cancelled
    page.get_by_label("Quantity to buy").fill("1")
    page.get_by_label("Limit price (USD)").fill("1.00")
    page.get_by_label("Expires in").select_option(label="1 hour")
    page.get_by_role("button", name="Place standing order").click()
    expect(page.locator("#standing-message")).to_contain_text("we buy 1 at or below 1.00 USD until")
    expect(page.locator("#mine-list").get_by_role("listitem")).to_have_text(
        [re.compile(r"^Buy 1 at or below 1\.00 USD\s*open")]
    )
    expect(chart).to_have_attribute("data-marks", "standing 1.00")
    assert_accessible(page)

    # the toast's link: the order on the orders page, with the unit price the toast named
    link = toast.get_by_role("link", name=re.compile(r"^See order #\d+$"))
    order_id = int((link.get_attribute("href") or "").removeprefix("/#order-"))
    link.click()
    expect(page).to_have_url(f"{server}/#order-{order_id}")
    order = (
        page.get_by_role("region", name="Orders").get_by_role("article").filter(has_text=f"Order #{order_id}")
    )
    expect(order).to_have_count(1)
    expect(order.get_by_role("heading", name=f"Order #{order_id}")).to_be_focused()
    line = order.get_by_role("row").filter(has_text="Desk lamp")
    expect(line.get_by_role("cell")).to_have_text(["Desk lamp", "2", str(unit_price), str(unit_price * 2)])
    token = access_token(server, shopper.email, FACTORY_PASSWORD)
    status, placed = call(server, "GET", f"/api/orders/{order_id}/", token=token)
    assert status == 200
    assert [(i["quantity"], Decimal(i["unit_price"])) for i in placed["items"]] == [(2, unit_price)]
    assert Decimal(placed["items"][0]["unit_price"]) <= Decimal("10.60")
    status, listed = call(server, "GET", "/api/standing-orders/", token=token)
    assert status == 200
    by_status = {o["status"]: o for o in listed["results"]}
    assert sorted(by_status) == ["filled", "open"] and by_status["filled"]["order"] == order_id

    # the alerts page lists the filled one, linking to its order, and cancels the open one
    page.get_by_role("link", name="Alerts and standing orders").click()
    expect(page).to_have_url(f"{server}/watch/")
    orders = page.get_by_role("region", name="Standing orders")
    filled = orders.locator(f"li[data-standing-order='{by_status['filled']['id']}']")
    expect(filled.locator(".status")).to_have_text("filled")
    expect(filled).to_contain_text("Buy 2 at or below 10.60 USD")
    expect(filled.get_by_role("link", name=f"Order #{order_id}")).to_have_attribute(
        "href", f"/#order-{order_id}"
    )
    expect(filled.get_by_role("button")).to_have_count(0)
    expect(
        page.get_by_role("region", name="Price alerts").get_by_text("No price alerts yet.")
    ).to_be_visible()
    pending = orders.locator(f"li[data-standing-order='{by_status['open']['id']}']")
    expect(pending.locator(".status")).to_have_text("open")
    assert_accessible(page)
    pending.get_by_role("button", name="Cancel standing order").click()
    expect(pending.locator(".status")).to_have_text("cancelled")
    expect(page.locator("#watch-message")).to_have_text("The standing order for Desk lamp is cancelled.")
    expect(pending.get_by_role("button")).to_have_count(0)
    status, cancelled = call(server, "GET", f"/api/standing-orders/{by_status['open']['id']}/", token=token)
    assert (status, cancelled["status"]) == (200, "cancelled")
    console.assert_clean()


@pytest.mark.server_env(PRICE_TICKER="off")
def test_the_feed_is_the_shoppers_after_log_in_reconnection_and_refresh_and_anonymous_after_log_out(
    server: str, tab: Tab, console: Console
) -> None:
    # given: a shopper on the board, the feed's traffic watched
    CurrencyFactory(code="EUR", rate="0.92")
    GoodsFactory(name="Desk lamp", price="45.00")
    shopper = UserFactory()
    page = tab.open()
    enforce_csp(page)
    tap = FeedTap()
    tap.install(page)
    page.goto(f"{server}/")
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    auths = lambda: [m for m in tap.from_page if m.get("action") == "auth"]  # noqa: E731
    assert auths() == []  # anonymous: no token to send

    # when: logging in, the open connection is told who listens
    log_in(page, shopper.email, FACTORY_PASSWORD)
    feed_user(page, shopper.id)
    access = page.evaluate("sessionStorage.getItem('tickshop.access')")
    assert [m["token"] for m in auths()] == [access]  # in a message, never in the address
    assert all("token" not in ws.url for ws in tap.connections)

    # when: the connection drops, the new one authenticates again right after connecting
    tap.connections[-1].close()
    until(page, lambda: len(tap.connections) == 2 and len(auths()) == 2)
    feed_user(page, shopper.id)
    assert auths()[-1]["token"] == access

    # when: the access token is refreshed, the connection gets the new one (here the currency
    # changes too, which reconnects: either way the connection ends up with the new token)
    page.evaluate("sessionStorage.setItem('tickshop.renewAt', '0')")
    with page.expect_response(re.compile(r"/auth/jwt/refresh/$")) as refreshed:
        page.get_by_label("Currency").select_option("EUR")  # re-quotes the cart: refreshes first
    assert refreshed.value.status == 200
    # the answer is in; the page's script stores the new token a moment later
    until(page, lambda: page.evaluate("sessionStorage.getItem('tickshop.access')") != access)
    renewed = page.evaluate("sessionStorage.getItem('tickshop.access')")
    until(page, lambda: auths()[-1]["token"] == renewed)
    feed_user(page, shopper.id)
    until(page, lambda: len([m for m in tap.to_page if m.get("type") == "auth"]) >= 3)
    assert {m["user"] for m in tap.to_page if m.get("type") == "auth"} == {shopper.id}
    sent = len(auths())

    # when: a token the server refuses (here: not a token), the page asks for a new one, once
    tap.connections[-1].send(
        '{"type": "error", "detail": "Not a valid access token", "code": "auth_failed", "id": "auth-9"}'
    )
    until(page, lambda: len(auths()) == sent + 1)
    assert auths()[-1]["token"] == page.evaluate("sessionStorage.getItem('tickshop.access')")
    feed_user(page, shopper.id)

    # when: logging out, the page reconnects without a token
    connections = len(tap.connections)
    page.get_by_role("button", name="Log out").click()
    until(page, lambda: len(tap.connections) == connections + 1)
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#feed-status")).not_to_have_attribute("data-user", re.compile(".*"))
    assert len(auths()) == sent + 1
    console.assert_clean()
