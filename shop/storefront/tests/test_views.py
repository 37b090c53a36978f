"""The storefront's pages as Django renders them (the browser tests drive them for real)."""

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import resolve

from shop.storefront.tests.catalog import catalog_create
from shop.tests.factories import CurrencyFactory, GoodsFactory

pytestmark = pytest.mark.django_db

CONTROLS = ("Currency", "Email", "Password", "Register", "Log in", "Log out", "Checkout", "Orders")


def config_of(html: str) -> dict[str, Any]:
    found = re.search(r'<body data-config="([^"]*)">', html)
    assert found, "the page carries its configuration"
    return json.loads(unescape(found.group(1)))


@pytest.fixture
def shop(usd: Any) -> dict[str, Any]:
    CurrencyFactory(code="EUR", name="Euro", rate="0.5")
    CurrencyFactory(code="JPY", name="Yen", decimals=0, rate="100.125")
    CurrencyFactory(code="GBP", name="Pound", rate="0.8", is_active=False)
    return {"lamp": GoodsFactory(name="Desk lamp", price="12.01"), "pen": GoodsFactory(name="Fountain pen")}


def test_index_renders_goods_currencies_and_controls(client: Client, shop: dict[str, Any]) -> None:
    # when
    response = client.get("/")
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    options = re.findall(r'<option value="([A-Z]{3})"( selected)?>', html)
    assert options == [("EUR", ""), ("JPY", ""), ("USD", " selected")]  # active ones only
    lamp, pen = shop["lamp"], shop["pen"]
    assert f'data-goods="{lamp.id}"' in html and "Desk lamp" in html
    assert re.search(r'class="amount">12\.01</span>\s*<span class="ccy">USD</span>', html)
    # goods without a price are listed but cannot be added yet
    row = html[html.index(f'data-goods="{pen.id}"') :]
    assert re.search(r'class="amount">—</span>.*?<button type="button" class="add" disabled>', row, re.S)
    for name in CONTROLS:
        assert f">{name}<" in html, name
    assert re.search(r">Quantity <input", html) and ">Remove<" in html and ">Add to cart<" in html
    for label_for in ("currency", "email", "password"):
        assert f'<label for="{label_for}">' in html
    config = config_of(html)
    assert config["currency"] == "USD" and config["baseCurrency"] == "USD"
    assert [c["code"] for c in config["currencies"]] == ["EUR", "JPY", "USD"]
    assert config["feedPath"] == "/ws/price_updates/"


def test_index_converts_to_the_currency_asked_for(client: Client, shop: dict[str, Any]) -> None:
    html = client.get("/?currency=JPY").content.decode()
    assert re.search(r'class="amount">1203</span>\s*<span class="ccy">JPY</span>', html)  # 1202.50125
    assert '<option value="JPY" selected>' in html
    assert config_of(html)["currency"] == "JPY"


@pytest.mark.parametrize("code", ["XXX", "GBP", "eur'><script>"])
def test_index_falls_back_to_the_base_currency(client: Client, shop: dict[str, Any], code: str) -> None:
    response = client.get("/", {"currency": code})
    assert response.status_code == 200
    assert config_of(response.content.decode())["currency"] == "USD"
    assert "'><script>" not in response.content.decode()


def test_index_is_read_only(client: Client, shop: dict[str, Any]) -> None:
    assert client.post("/").status_code == 405


def test_static_files_are_served(client: Client) -> None:
    for name in (
        "main.js", "api.js", "board.js", "cart.js", "feed.js", "activate.js", "reset.js", "goods.js", "chart.js",
        "links.js", "notices.js", "watchlist.js", "watch.js",
    ):  # fmt: skip
        response = client.get(f"/static/storefront/{name}")
        assert response.status_code == 200, name
        assert "javascript" in response["Content-Type"], name
    assert client.get("/static/storefront/storefront.css")["Content-Type"].startswith("text/css")
    assert client.get("/static/storefront/favicon.svg")["Content-Type"].startswith("image/svg+xml")


@pytest.mark.parametrize("suffix", ["", "/"])
def test_activation_page(client: Client, suffix: str) -> None:
    response = client.get(f"/activate/MQ/cz7zh2-0123456789abcdef{suffix}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Activate your account" in html and "activate.js" in html
    config = config_of(html)
    assert (config["uid"], config["token"]) == ("MQ", "cz7zh2-0123456789abcdef")


def test_password_reset_page(client: Client) -> None:
    response = client.get("/password-reset/MQ/cz7zh2-abc")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="new-password">New password</label>' in html and "reset.js" in html
    assert (config_of(html)["uid"], config_of(html)["token"]) == ("MQ", "cz7zh2-abc")


@pytest.mark.parametrize("path", ["/activate/MQ/cz7zh2-abc", "/password-reset/MQ/cz7zh2-abc"])
def test_a_link_page_sends_no_referer_that_names_its_token(client: Client, path: str) -> None:
    # The page's own files (style, scripts, icon) load before its script takes the token out of
    # the address bar: the policy keeps the address out of their Referer, and out of any other.
    assert client.get(path)["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "shows"),
    [("/activate/", "Activate your account"), ("/password-reset/", "Choose a new password")],
)
def test_a_link_page_without_its_token_still_opens(client: Client, path: str, shows: str) -> None:
    # where the page's script leaves the address bar once it has read the token (history.replaceState):
    # reloaded, the page opens, without a token, and says what to do
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert shows in html
    assert "uid" not in config_of(html) and "token" not in config_of(html)
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("script", "path"), [("activate.js", "/activate/"), ("reset.js", "/password-reset/")]
)
def test_a_link_page_takes_the_token_out_of_the_address_bar(script: str, path: str) -> None:
    # (the browser tests see it done: test_browser_shopping.py)
    source = (Path(__file__).parents[1] / "static" / "storefront" / script).read_text()
    assert f'takeLink("{path}")' in source
    helper = (Path(__file__).parents[1] / "static" / "storefront" / "api.js").read_text()
    assert 'history.replaceState(null, "", path)' in helper


def test_unknown_paths_stay_json_404(client: Client) -> None:
    response = client.get("/activate/only-uid")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_activation_e_mail_links_to_the_activation_page(
    client: Client, settings: Any, celery_eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given: the e-mail a registration sends (SPEC §5: SITE_URL + /activate/{uid}/{token}), after
    # commit, by the e-mail task (run in this process here)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_DELIVERY = "celery"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/auth/users/",
            {
                "email": "new@example.com",
                "password": "violet-kettle-7391",
                "re_password": "violet-kettle-7391",
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    link = re.search(r"https?://\S+/activate/\S+", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    path = link.group(0).removeprefix(settings.SITE_URL)
    # then: the link opens the storefront's page, which holds uid and token for the POST
    assert resolve(path).url_name == "storefront-activate"
    config = config_of(client.get(path).content.decode())
    activated = client.post("/auth/users/activation/", config, content_type="application/json")
    assert activated.status_code == 204


# --- The board at catalog scale ------------------------------------------------------------


def rows_of(html: str) -> list[str]:
    """The goods names of the board's rows, in order."""
    return re.findall(r'<a class="goods-link" href="/goods/\d+/[^"]*">([^<]*)</a>', html)


def link(html: str, name: str) -> str | None:
    found = re.search(rf'<a class="button" rel="\w+" href="([^"]*)">{name}</a>', html)
    return unescape(found.group(1)) if found else None


def test_the_board_shows_50_goods_a_page_with_page_links(client: Client, usd: Any) -> None:
    # given: 120 goods
    goods = catalog_create(120)
    # when: the first page
    html = client.get("/").content.decode()
    # then: 50 rows linking to their pages, a Next page link and no Previous page link
    assert rows_of(html) == [f"Goods {n:05d}" for n in range(1, 51)]
    assert f'href="/goods/{goods[0].id}/">Goods 00001</a>' in html
    assert link(html, "Next page") == "/?page=2" and link(html, "Previous page") is None
    assert "120 goods · page 1 of 3" in html
    assert config_of(html)["goods"] == [g.id for g in goods[:50]]  # the feed follows these only
    # the last page: the 20 left, a way back and none forward
    html = client.get("/?page=3").content.decode()
    assert rows_of(html) == [f"Goods {n:05d}" for n in range(101, 121)]
    assert (link(html, "Next page"), link(html, "Previous page")) == (None, "/?page=2")
    # a page past the end or not a number: the nearest page, not an error
    assert rows_of(client.get("/?page=99").content.decode())[0] == "Goods 00101"
    assert rows_of(client.get("/?page=x").content.decode())[0] == "Goods 00001"


def test_the_board_searches_by_name_and_sorts_keeping_the_query_in_its_links(
    client: Client, usd: Any
) -> None:
    # given: 60 goods "Lamp …" among 140 others
    CurrencyFactory(code="EUR", rate="0.5")
    catalog_create(70, name="Chair")
    catalog_create(60, name="Lamp")  # prices 1.00 … 60.00
    catalog_create(70, name="Table")
    # when: searching (case does not matter), by price, highest first, in EUR
    html = client.get("/", {"search": "lamp", "sort": "-price", "currency": "EUR"}).content.decode()
    # then: only lamps, the dearest first, and the search box keeps the words
    assert rows_of(html) == [f"Lamp {n:05d}" for n in range(60, 10, -1)]
    assert re.search(r'class="amount">30\.00</span>\s*<span class="ccy">EUR</span>', html)  # 60.00 USD
    assert 'id="search" name="search" type="search" value="lamp"' in html
    assert '<option value="-price" selected>' in html
    assert "60 goods match “lamp” · page 1 of 2" in html
    assert link(html, "Next page") == "/?search=lamp&sort=-price&currency=EUR&page=2"
    html = client.get(link(html, "Next page")).content.decode()
    assert rows_of(html) == [f"Lamp {n:05d}" for n in range(10, 0, -1)]
    assert link(html, "Previous page") == "/?search=lamp&sort=-price&currency=EUR"
    # the goods links keep the currency
    assert re.search(r'href="/goods/\d+/\?currency=EUR">Lamp 00010<', html)
    # lowest price first; by name
    html = client.get("/", {"sort": "price"}).content.decode()
    assert rows_of(html)[:3] == ["Chair 00001", "Lamp 00001", "Table 00001"]
    assert rows_of(client.get("/", {"search": "TABLE 0000"}).content.decode()) == [
        f"Table {n:05d}" for n in range(1, 10)
    ]
    # nothing found: said so, with a way back
    html = client.get("/", {"search": "sofa"}).content.decode()
    assert rows_of(html) == [] and "No goods match “sofa”" in html and link(html, "Next page") is None


def test_the_board_of_10000_goods_in_a_running_sale_stays_small(client: Client, usd: Any) -> None:
    # given: 10,000 goods that a running sale reprices on every tick
    catalog_create(10_000, in_sale=True)
    # when
    response = client.get("/")
    # then: one page of 50, and the whole page under 200 KB
    assert response.status_code == 200
    html = response.content.decode()
    assert len(rows_of(html)) == 50 and "10000 goods · page 1 of 200" in html
    assert len(response.content) < 200_000, len(response.content)


# --- Goods pages ----------------------------------------------------------------------------


def test_the_goods_page_shows_the_goods_its_live_price_chart_and_history(
    client: Client, shop: dict[str, Any]
) -> None:
    lamp = shop["lamp"]
    # when
    response = client.get(f"/goods/{lamp.id}/", {"currency": "JPY"})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="goods-title">Desk lamp</h1>' in html and "A fine thing." in html
    assert re.search(r'class="amount">1203</span>\s*<span class="ccy">JPY</span>', html)
    assert re.search(r">Quantity <input[^>]*>", html) and ">Add to cart</button>" in html
    assert 'role="img" aria-label="Price history"' in html
    assert re.findall(r'data-interval="(\w+)" aria-pressed', html) == ["1m", "1h", "1d"]
    assert '<th scope="col">Time</th><th scope="col">Price (USD)</th><th scope="col">Source</th>' in html
    assert ">Load more</button>" in html and "goods.js" in html
    config = config_of(html)
    assert (config["goodsId"], config["goodsName"], config["goods"], config["currency"]) == (
        lamp.id,
        "Desk lamp",
        [lamp.id],
        "JPY",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/goods/{inactive}/",
        "/goods/987654/",
        "/goods/9223372036854775808/",
        "/goods/99999999999999999999999/",
        "/goods/abc/",
        "/goods/{lamp}",
    ],
)
def test_unknown_or_inactive_goods_are_a_404_page(client: Client, shop: dict[str, Any], path: str) -> None:
    inactive = GoodsFactory(name="Retired", price="5.00", is_active=False)
    response = client.get(path.format(inactive=inactive.id, lamp=shop["lamp"].id))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "We cannot find that page" in html and 'href="/">Browse all goods</a>' in html
    assert "storefront.css" in html and "Retired" not in html


def test_pages_carry_no_inline_script_or_style(client: Client, shop: dict[str, Any]) -> None:
    # The Content-Security-Policy allows scripts from the shop's files only, and no style attributes.
    for path in (
        "/",
        f"/goods/{shop['lamp'].id}/",
        "/goods/0/",
        "/activate/MQ/abc",
        "/password-reset/MQ/abc",
        "/watch/",
    ):
        html = client.get(path).content.decode()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all(re.fullmatch(r'<script type="module" src="/static/[\w/.-]+">', s) for s in scripts)
        assert not re.search(r"\sstyle=", html) and "<style" not in html, path
        assert not re.search(r"\son\w+=", html), path  # no inline event handlers
        # Nothing from other hosts; the one address of another site is a link (the chart library's
        # attribution, which its licence asks for), which loads nothing.
        html = html.replace('<a href="https://www.tradingview.com/">', "")
        assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, path


def test_the_vendored_axe_core_is_the_locked_one() -> None:
    # The browser tests' copy of axe-core comes from package-lock.json (`make vendor`), licence included.
    root = Path(__file__).resolve().parents[3]
    vendor = Path(__file__).parent / "vendor" / "axe-core"
    locked = json.loads((root / "package-lock.json").read_text())["packages"]["node_modules/axe-core"][
        "version"
    ]
    assert (vendor / "VERSION").read_text().strip() == locked
    assert (vendor / "axe.min.js").read_text()[:40].startswith(f"/*! axe v{locked}")
    assert "Mozilla Public License" in (vendor / "LICENSE").read_text()


def test_the_vendored_chart_library_is_the_locked_one(client: Client) -> None:
    # The goods page's chart library comes from package-lock.json (`make vendor`), licence included,
    # and the shop serves it as a JavaScript module.
    root = Path(__file__).resolve().parents[3]
    vendor = root / "shop" / "storefront" / "static" / "storefront" / "vendor" / "lightweight-charts"
    packages = json.loads((root / "package-lock.json").read_text())["packages"]
    locked = packages["node_modules/lightweight-charts"]["version"]
    assert (vendor / "VERSION").read_text().strip() == locked
    module = vendor / "lightweight-charts.standalone.production.mjs"
    assert f"TradingView Lightweight Charts™ v{locked}" in module.read_text()[:200]
    assert "Apache License" in (vendor / "LICENSE").read_text()
    response = client.get(f"/static/storefront/vendor/lightweight-charts/{module.name}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")


# --- Price alerts and standing orders (SPEC §15) ---------------------------------------------


def test_the_goods_page_has_the_alert_and_standing_order_forms(client: Client, shop: dict[str, Any]) -> None:
    # when: the goods page in euros
    html = client.get(f"/goods/{shop['lamp'].id}/", {"currency": "EUR"}).content.decode()
    # then: both forms, their amounts labelled in the page's currency, hidden until the script
    # knows a shopper is logged in (a guest is told to log in instead)
    forms = html[html.index('id="watch-forms"') :]
    assert re.search(r'<div class="watch-forms" id="watch-forms" hidden>', html)
    assert '<h3 id="alert-heading">Alert me</h3>' in forms
    assert re.findall(r'<option value="(\w+)"[^>]*>(at or \w+)</option>', forms) == [
        ("below", "at or below"),
        ("above", "at or above"),
    ]
    assert re.search(
        r'<label for="alert-price">Alert price \(<span class="watch-currency">EUR</span>\)', forms
    )
    assert ">Alert me</button>" in forms
    assert '<h3 id="standing-heading">Buy at or below</h3>' in forms
    assert re.search(
        r'<label for="standing-limit">Limit price \(<span class="watch-currency">EUR</span>\)', forms
    )
    assert '<label for="standing-quantity">Quantity to buy</label>' in forms
    assert ">Place standing order</button>" in forms
    # the expiry: 24 hours unless chosen otherwise, a week at most
    expiries = re.findall(r'<option value="(\d+)"( selected)?>([^<]+)</option>', forms)
    assert expiries == [
        ("3600", "", "1 hour"),
        ("21600", "", "6 hours"),
        ("86400", " selected", "24 hours"),
        ("259200", "", "3 days"),
        ("604800", "", "7 days"),
    ]
    assert 'href="/#account">Log in</a> to be told' in html
    assert re.search(r'<a href="/watch/" id="watch-link" hidden>Alerts and standing orders</a>', html)
    # each form's messages are read out; the chart says what its dotted lines are
    assert 'id="alert-message" role="status" aria-live="polite"' in forms
    assert 'id="standing-message" role="status" aria-live="polite"' in forms
    assert "dotted lines: your open alerts and standing orders" in html
    config = config_of(html)
    assert config["currency"] == "EUR" and "serverNow" in config


def test_the_watch_page_lists_alerts_and_standing_orders_for_its_script(client: Client, usd: Any) -> None:
    # when
    response = client.get("/watch/")
    # then: the page's frame; its script fills both lists for the logged-in shopper
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="watch-title" tabindex="-1">My alerts and standing orders</h1>' in html
    assert re.search(r'<section class="panel" id="alerts" aria-labelledby="alerts-heading" hidden>', html)
    assert re.search(
        r'<section class="panel" id="standing-orders" aria-labelledby="standing-heading" hidden>', html
    )
    assert '<ul class="watch-list" id="alert-list"></ul>' in html
    assert '<ul class="watch-list" id="standing-list"></ul>' in html
    assert 'href="/#account">go to your account</a>' in html  # what a guest is shown
    assert 'id="watch-message" role="status"' in html and "watch.js" in html
    assert 'id="feed-status"' in html  # the page follows the feed, for the shopper's news
    config = config_of(html)
    assert config["feedPath"] == "/ws/price_updates/" and config["baseCurrency"] == "USD"
    assert resolve("/watch/").url_name == "storefront-watch"
    assert client.post("/watch/").status_code == 405


def test_the_board_links_the_watch_page_for_logged_in_shoppers(client: Client, shop: dict[str, Any]) -> None:
    html = client.get("/").content.decode()
    nav = html[html.index('id="account-nav"') : html.index("</nav>")]
    # inside the account navigation, which the script shows only to a logged-in shopper
    assert '<nav class="account-nav" id="account-nav" aria-label="Account" hidden>' in html
    assert '<a href="/watch/">Alerts and standing orders</a>' in nav


def test_every_page_that_opens_the_feed_authenticates_it_and_shows_the_shoppers_news() -> None:
    # (the browser tests see it done: test_browser_watch.py)
    static = Path(__file__).parents[1] / "static" / "storefront"
    for script in ("main.js", "goods.js", "watch.js"):
        source = (static / script).read_text()
        assert "new PriceFeed(" in source, script
        assert "...shopperFeed(" in source and "followShopper(feed)" in source, script
    feed = (static / "feed.js").read_text()
    assert 'action: "auth", token' in feed
    assert 'socket.addEventListener("open", () => this.socket === socket && this.authenticate())' in feed
    notices = (static / "notices.js").read_text()
    assert "onToken(() => feed.authenticate())" in notices  # after each token refresh, and log in
    assert "?token=" not in feed  # never in the address (SPEC §15)
