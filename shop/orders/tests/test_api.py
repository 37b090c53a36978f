import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.currency.models import ExchangeRate
from shop.orders.api import OrderSerializer
from shop.orders.models import CartItem, IdempotencyKey, Order, OrderLine
from shop.orders.services.cart import CART_EMPTY, NOT_IN_CART
from shop.orders.services.idempotency import IDEMPOTENCY_KEY_REUSED
from shop.orders.services.orders import (
    GOODS_UNAVAILABLE,
    ORDER_SUM_TOO_HIGH,
    QUANTITY_RANGE,
)
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(usd: Any) -> dict[str, Goods]:
    CurrencyFactory(code="EUR", rate="0.92")
    CurrencyFactory(code="JPY", decimals=0, rate="157.67483296")
    return {
        "hundred": GoodsFactory(name="Hundred", price="100.00"),
        "ten": GoodsFactory(name="Ten", price="10.75"),
    }


def nothing_written() -> bool:
    return (
        not Order.objects.exists() and not OrderLine.objects.exists() and not IdempotencyKey.objects.exists()
    )


# --- orders --------------------------------------------------------------------


def test_worked_example_order(shopper: APIClient, shop: dict[str, Goods]) -> None:
    # when
    response = shopper.post(
        "/api/orders/",
        {"currency": "EUR", "items": [{"goods": shop["hundred"].id, "quantity": 1}]},
        format="json",
    )
    # then
    assert response.status_code == 201, response.json()
    order = response.json()
    eur_rate = ExchangeRate.objects.filter(currency="EUR").latest("valid_from")
    assert order == {
        "id": order["id"],
        "status": "placed",
        "created_at": order["created_at"],
        "currency": "EUR",
        "exchange_rate": "0.92",
        "exchange_rate_id": eur_rate.id,
        "items": [
            {
                "goods": shop["hundred"].id,
                "goods_name": "Hundred",
                "quantity": 1,
                "price_id": shop["hundred"].current_price_id,
                "unit_price": "100.00",
                "line_total": "100.00",
            }
        ],
        "subtotal": "100.00",
        "markup": "30.00",
        "fee": "10.10",
        "total": "140.10",
        "order_sum": "128.89",
        "payment_method": "",
        "payment_reference": "",
        "events": [],
    }
    assert shopper.get(f"/api/orders/{order['id']}/").json() == order


def test_order_in_base_and_zero_decimal_currency(shopper: APIClient, shop: dict[str, Goods]) -> None:
    items = [{"goods": shop["hundred"].id, "quantity": 1}]
    usd = shopper.post("/api/orders/", {"items": items}, format="json").json()
    assert (usd["currency"], usd["exchange_rate"], usd["order_sum"]) == ("USD", "1", "140.10")
    jpy = shopper.post("/api/orders/", {"currency": "JPY", "items": items}, format="json").json()
    assert jpy["order_sum"] == "22090"


def test_order_representation_is_what_its_fields_make(shopper: APIClient, shop: dict[str, Goods]) -> None:
    # given: orders in three currencies, one with a markup finer than a cent (30 % of 0.01)
    cent = GoodsFactory(name="Cent", price="0.01")
    lines = [{"goods": g.id, "quantity": q} for g, q in ((shop["hundred"], 3), (shop["ten"], 7), (cent, 1))]
    for currency in ("USD", "EUR", "JPY"):
        assert (
            shopper.post("/api/orders/", {"currency": currency, "items": lines}, format="json").status_code
            == 201
        )
    # when: each order shown by OrderSerializer and by DRF's generic field-by-field serialization
    for order in Order.objects.select_related("currency").prefetch_related("items"):
        written_out = OrderSerializer(order).data
        by_fields = serializers.Serializer.to_representation(OrderSerializer(), order)
        # then
        assert written_out == json.loads(json.dumps(by_fields))
        assert written_out["markup"] == "112.578"  # 30 % of 375.26, unrounded (SPEC §4)
        assert shopper.get(f"/api/orders/{order.id}/").json() == written_out


def test_same_goods_twice_is_merged(shopper: APIClient, shop: dict[str, Goods]) -> None:
    g = shop["ten"].id
    body = {"items": [{"goods": g, "quantity": 2}, {"goods": g, "quantity": 3}]}
    order = shopper.post("/api/orders/", body, format="json").json()
    assert [(i["goods"], i["quantity"], i["line_total"]) for i in order["items"]] == [(g, 5, "53.75")]


def test_order_is_frozen_when_prices_and_rates_move(
    shopper: APIClient, staff: APIClient, shop: dict[str, Goods]
) -> None:
    items = [{"goods": shop["hundred"].id, "quantity": 2}]
    order = shopper.post("/api/orders/", {"currency": "EUR", "items": items}, format="json").json()
    prices_record(amounts={shop["hundred"].id: Decimal("1.00")}, source="manual")
    staff.post("/api/currency/EUR/rates/", {"rate": "2"}, format="json")
    assert shopper.get(f"/api/orders/{order['id']}/").json() == order


def test_max_order_sum_guard(shopper: APIClient, shop: dict[str, Goods]) -> None:
    items = [{"goods": shop["hundred"].id, "quantity": 1}]
    refused = shopper.post(
        "/api/orders/", {"currency": "EUR", "items": items, "max_order_sum": "128.88"}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": ORDER_SUM_TOO_HIGH,
        "code": "order_sum_too_high",
        "order_sum": "128.89",
    }
    assert nothing_written()
    accepted = shopper.post(
        "/api/orders/", {"currency": "EUR", "items": items, "max_order_sum": "128.89"}, format="json"
    )
    assert accepted.status_code == 201


def test_idempotency_key(shopper: APIClient, shop: dict[str, Goods]) -> None:
    body = {"items": [{"goods": shop["ten"].id, "quantity": 1}]}
    first = shopper.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = shopper.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = shopper.post(
        "/api/orders/",
        {"items": [{"goods": shop["ten"].id, "quantity": 2}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 422
    assert other.json()["detail"] == IDEMPOTENCY_KEY_REUSED
    assert Order.objects.count() == 1
    # keys are per user
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert (
        stranger.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1").json()["id"]
        != first.json()["id"]
    )


def test_a_key_older_than_24_hours_is_a_new_key(shopper: APIClient, shop: dict[str, Goods]) -> None:
    # given: an order with key k-3, its key then 24 hours and a minute old, and another one 23 hours old
    first = {"items": [{"goods": shop["ten"].id, "quantity": 1}]}
    old = shopper.post("/api/orders/", first, format="json", HTTP_IDEMPOTENCY_KEY="k-3").json()
    young = shopper.post("/api/orders/", first, format="json", HTTP_IDEMPOTENCY_KEY="k-4").json()
    IdempotencyKey.objects.filter(key="k-3").update(
        created_at=timezone.now() - timedelta(hours=24, minutes=1)
    )
    IdempotencyKey.objects.filter(key="k-4").update(created_at=timezone.now() - timedelta(hours=23))
    # when: both keys come again, k-3 even with another body
    other = {"items": [{"goods": shop["ten"].id, "quantity": 2}]}
    renewed = shopper.post("/api/orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    replayed = shopper.post("/api/orders/", first, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    # then: k-3 placed a new order and now stands for it; k-4 still answers with its order
    assert renewed.status_code == 201 and "Idempotent-Replayed" not in renewed
    assert renewed.json()["id"] != old["id"] and renewed.json()["items"][0]["quantity"] == 2
    assert IdempotencyKey.objects.get(key="k-3").order_id == renewed.json()["id"]
    assert replayed.json() == young and replayed["Idempotent-Replayed"] == "true"
    again = shopper.post("/api/orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert again.json() == renewed.json()


def test_a_refused_order_does_not_burn_its_key(shopper: APIClient, shop: dict[str, Goods]) -> None:
    body = {"items": [{"goods": shop["ten"].id, "quantity": 1}], "max_order_sum": "1.00"}
    assert shopper.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 409
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "items", None),
        ({"items": []}, "items", None),
        ({"items": "x"}, "items", None),
        ({"items": [{"goods": "{ten}", "quantity": 0}]}, "items", None),
        ({"items": [{"goods": "{ten}", "quantity": -1}]}, "items", None),
        ({"items": [{"goods": "{ten}", "quantity": 1001}]}, "items", None),
        ({"items": [{"goods": "{ten}", "quantity": "many"}]}, "items", None),
        ({"items": [{"goods": "{ten}", "quantity": 1.5}]}, "items", None),
        ({"items": [{"goods": "{ten}"}]}, "items", None),
        (
            {"items": [{"goods": "{ten}", "quantity": 600}, {"goods": "{ten}", "quantity": 600}]},
            "detail",
            QUANTITY_RANGE,
        ),
        ({"items": [{"goods": 999999, "quantity": 1}]}, "detail", GOODS_UNAVAILABLE),
        ({"items": [{"goods": "{inactive}", "quantity": 1}]}, "detail", GOODS_UNAVAILABLE),
        ({"items": [{"goods": "{unpriced}", "quantity": 1}]}, "detail", GOODS_UNAVAILABLE),
        ({"currency": "XXX", "items": [{"goods": "{ten}", "quantity": 1}]}, "code", None),
        ({"currency": "CHF", "items": [{"goods": "{ten}", "quantity": 1}]}, "code", None),
        ({"currency": "GBP", "items": [{"goods": "{ten}", "quantity": 1}]}, "code", None),
        ({"items": [{"goods": "{ten}", "quantity": 1}], "max_order_sum": "abc"}, "max_order_sum", None),
        ({"items": [{"goods": "{ten}", "quantity": 1}], "max_order_sum": "-1"}, "max_order_sum", None),
    ],
)
def test_order_bad_input(
    shopper: APIClient, shop: dict[str, Goods], body: dict[str, Any], field: str, message: str | None
) -> None:
    # given: an inactive goods, one without a price, an inactive currency, one without a rate
    names = {
        "{ten}": shop["ten"].id,
        "{inactive}": GoodsFactory(price="1.00", is_active=False).id,
        "{unpriced}": GoodsFactory().id,
    }
    CurrencyFactory(code="CHF", is_active=False, rate="0.9")
    CurrencyFactory(code="GBP")
    for item in body.get("items", []) if isinstance(body.get("items"), list) else []:
        item["goods"] = names.get(item.get("goods"), item.get("goods"))
    # when
    response = shopper.post("/api/orders/", body, format="json")
    # then
    assert response.status_code == 400, response.json()
    assert field in response.json()
    if message:
        assert response.json()["detail"] == message
    assert nothing_written()


def test_orders_need_a_login(anon: APIClient, shop: dict[str, Goods]) -> None:
    for method, url in (("get", "/api/orders/"), ("post", "/api/orders/"), ("get", "/api/orders/1/")):
        response = getattr(anon, method)(url, {}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_shoppers_see_only_their_own_orders(
    shopper: APIClient, staff: APIClient, shop: dict[str, Goods]
) -> None:
    body = {"items": [{"goods": shop["ten"].id, "quantity": 1}]}
    mine = shopper.post("/api/orders/", body, format="json").json()
    theirs = staff.post("/api/orders/", body, format="json").json()
    assert [o["id"] for o in shopper.get("/api/orders/").json()["results"]] == [mine["id"]]
    assert shopper.get(f"/api/orders/{theirs['id']}/").status_code == 404
    assert staff.get(f"/api/orders/{mine['id']}/").status_code == 404  # staff use the admin for all orders


def test_orders_cannot_be_changed_through_the_api(shopper: APIClient, shop: dict[str, Goods]) -> None:
    order = shopper.post(
        "/api/orders/", {"items": [{"goods": shop["ten"].id, "quantity": 1}]}, format="json"
    ).json()
    for method in ("put", "patch", "delete"):
        assert (
            getattr(shopper, method)(
                f"/api/orders/{order['id']}/", {"status": "completed"}, format="json"
            ).status_code
            == 405
        )


# --- cart ---------------------------------------------------------------------


def test_cart_quote_and_lines(shopper: APIClient, shop: dict[str, Goods]) -> None:
    hundred, ten = shop["hundred"].id, shop["ten"].id
    added = shopper.post("/api/cart/items/", {"goods": hundred, "quantity": 1}, format="json")
    assert added.status_code == 201
    shopper.post("/api/cart/items/", {"goods": ten, "quantity": 2}, format="json")
    shopper.post("/api/cart/items/", {"goods": ten, "quantity": 1}, format="json")  # adds to the line
    prices_record(amounts={ten: Decimal("11.00")}, source="manual")
    quote = shopper.get("/api/cart/?currency=EUR").json()
    assert quote == {
        "currency": "EUR",
        "exchange_rate": "0.92",
        "items": [
            {"goods": hundred, "goods_name": "Hundred", "quantity": 1, "unit_price": "100.00", "added_price": "100.00", "line_total": "100.00", "held": 0, "held_until": None},
            {"goods": ten, "goods_name": "Ten", "quantity": 3, "unit_price": "11.00", "added_price": "10.75", "line_total": "33.00", "held": 0, "held_until": None},
        ],
        "subtotal": "133.00",
        "markup": "39.90",
        "fee": "10.10",
        "total": "183.00",
        "order_sum": "168.36",
        "unavailable": [],
    }  # fmt: skip
    patched = shopper.patch(f"/api/cart/items/{ten}/", {"quantity": 1}, format="json").json()
    assert [i["quantity"] for i in patched["items"]] == [1, 1]
    removed = shopper.delete(f"/api/cart/items/{hundred}/").json()
    assert [i["goods"] for i in removed["items"]] == [ten]
    cleared = shopper.delete("/api/cart/").json()
    assert (cleared["items"], cleared["order_sum"]) == ([], "10.10")


def test_cart_line_of_a_deactivated_goods_is_left_out(shopper: APIClient, shop: dict[str, Goods]) -> None:
    shopper.post("/api/cart/items/", {"goods": shop["ten"].id, "quantity": 1}, format="json")
    Goods.objects.filter(id=shop["ten"].id).update(is_active=False)
    quote = shopper.get("/api/cart/").json()
    assert quote["unavailable"] == [shop["ten"].id]
    assert quote["items"][0]["unit_price"] is None
    assert quote["subtotal"] == "0.00"
    assert shopper.post("/api/cart/checkout/", {}, format="json").status_code == 400
    assert CartItem.objects.count() == 1


def test_checkout_creates_the_order_and_empties_the_cart(shopper: APIClient, shop: dict[str, Goods]) -> None:
    shopper.post("/api/cart/items/", {"goods": shop["hundred"].id, "quantity": 1}, format="json")
    quote = shopper.get("/api/cart/?currency=EUR").json()
    response = shopper.post(
        "/api/cart/checkout/", {"currency": "EUR", "max_order_sum": quote["order_sum"]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["order_sum"] == "128.89"
    assert shopper.get("/api/cart/").json()["items"] == []
    again = shopper.post("/api/cart/checkout/", {"currency": "EUR"}, format="json")
    assert (again.status_code, again.json()["detail"]) == (400, CART_EMPTY)


def test_checkout_guard_keeps_the_cart(shopper: APIClient, shop: dict[str, Goods]) -> None:
    shopper.post("/api/cart/items/", {"goods": shop["hundred"].id, "quantity": 1}, format="json")
    prices_record(amounts={shop["hundred"].id: Decimal("101.00")}, source="manual")
    response = shopper.post(
        "/api/cart/checkout/", {"currency": "EUR", "max_order_sum": "128.89"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["order_sum"] == "130.09"  # (101 × 1.3 + 10.10) × 0.92 = 130.088
    assert CartItem.objects.count() == 1
    assert nothing_written()


def test_checkout_idempotency(shopper: APIClient, shop: dict[str, Goods]) -> None:
    shopper.post("/api/cart/items/", {"goods": shop["ten"].id, "quantity": 1}, format="json")
    first = shopper.post("/api/cart/checkout/", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = shopper.post("/api/cart/checkout/", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert (
        shopper.post(
            "/api/cart/checkout/", {"currency": "EUR"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "key"),
    [
        ("post", "/api/cart/items/", {"goods": "{ten}", "quantity": 0}, 400, "quantity"),
        ("post", "/api/cart/items/", {"goods": "{ten}", "quantity": 1001}, 400, "quantity"),
        ("post", "/api/cart/items/", {"goods": "{ten}", "quantity": "x"}, 400, "quantity"),
        ("post", "/api/cart/items/", {"goods": "{ten}", "quantity": 999}, 400, "detail"),
        ("post", "/api/cart/items/", {"goods": 999999, "quantity": 1}, 400, "detail"),
        ("post", "/api/cart/items/", {"quantity": 1}, 400, "goods"),
        ("patch", "/api/cart/items/{ten}/", {"quantity": 0}, 400, "quantity"),
        ("patch", "/api/cart/items/{hundred}/", {"quantity": 2}, 404, "detail"),
        ("delete", "/api/cart/items/{hundred}/", None, 404, "detail"),
        ("get", "/api/cart/?currency=XXX", None, 400, "code"),
        ("post", "/api/cart/checkout/", {"currency": "XXX"}, 400, "code"),
        ("post", "/api/cart/checkout/", {"max_order_sum": "1.2.3"}, 400, "max_order_sum"),
    ],
)
def test_cart_bad_input(
    shopper: APIClient, shop: dict[str, Goods], method: str, url: str, body: Any, status: int, key: str
) -> None:
    ten, hundred = str(shop["ten"].id), str(shop["hundred"].id)
    shopper.post("/api/cart/items/", {"goods": shop["ten"].id, "quantity": 2}, format="json")
    url = url.replace("{ten}", ten).replace("{hundred}", hundred)
    if body and body.get("goods") == "{ten}":
        body = {**body, "goods": shop["ten"].id}
    response = getattr(shopper, method)(url, body, format="json")
    assert response.status_code == status, response.json()
    assert key in response.json()
    assert list(CartItem.objects.values_list("quantity", flat=True)) == [2]
    assert nothing_written()


def test_cart_needs_a_login_and_is_per_user(
    anon: APIClient, shopper: APIClient, shop: dict[str, Goods]
) -> None:
    for method, url in (
        ("get", "/api/cart/"),
        ("post", "/api/cart/items/"),
        ("post", "/api/cart/checkout/"),
        ("delete", "/api/cart/"),
    ):
        assert getattr(anon, method)(url, {}, format="json").status_code == 401
    shopper.post("/api/cart/items/", {"goods": shop["ten"].id, "quantity": 2}, format="json")
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.get("/api/cart/").json()["items"] == []
    assert other.delete(f"/api/cart/items/{shop['ten'].id}/").json()["detail"] == NOT_IN_CART
