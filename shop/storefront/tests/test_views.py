"""The storefront's pages as Django renders them (the browser tests drive them for real)."""

import json
import re
from html import unescape
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import resolve

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
    for name in ("main.js", "api.js", "board.js", "cart.js", "feed.js", "activate.js", "reset.js"):
        response = client.get(f"/static/storefront/{name}")
        assert response.status_code == 200, name
        assert "javascript" in response["Content-Type"], name
    assert client.get("/static/storefront/storefront.css")["Content-Type"].startswith("text/css")


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


def test_unknown_paths_stay_json_404(client: Client) -> None:
    response = client.get("/activate/only-uid")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_activation_e_mail_links_to_the_activation_page(client: Client, settings: Any) -> None:
    # given: the e-mail a registration sends (SPEC §5: SITE_URL + /activate/{uid}/{token})
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(
        "/auth/users/",
        {"email": "new@example.com", "password": "violet-kettle-7391", "re_password": "violet-kettle-7391"},
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
