"""Hostile input: ids, currency codes, keys and sizes are refused with a 4xx and change nothing."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.catalog import selectors
from shop.catalog.models import Price
from shop.catalog.services.prices import prices_record
from shop.core.ids import INVALID_ID, MAX_ID, parse_id
from shop.domain.orders import MAX_ORDER_LINES
from shop.orders.models import CartItem, Order
from shop.orders.services.idempotency import IDEMPOTENCY_KEY_INVALID
from shop.orders.services.orders import TOO_MANY_LINES
from shop.tests.factories import GoodsFactory, SaleFactory
from shop.tests.live import asgi_server, call, service_env

pytestmark = pytest.mark.django_db

HUGE = 10**20


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1), ("42", 42), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID),
        (0, None), (-1, None), (MAX_ID + 1, None), (str(MAX_ID + 1), None), (HUGE, None),
        ("-1e99999999", None), ("1e3", None), ("1.0", None), (" 1", None), ("", None), ("٣", None),
        (True, None), (1.0, None), (None, None), ([1], None), ("9" * 5000, None),
    ],
)  # fmt: skip
def test_an_id_is_a_plain_integer_in_range(value: Any, expected: int | None) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/api/prices/?goods=-1e99999999",
        "/api/prices/?goods=99999999999999999999",
        "/api/goods/?sale=-1e99999999",
        "/api/goods/?sale=0",
    ],
)
def test_id_filters_refuse_what_is_not_an_id(anon: APIClient, path: str) -> None:
    response = anon.get(path)
    assert response.status_code == 400
    assert list(response.json().values()) == [[INVALID_ID]]


@pytest.mark.parametrize("bad", ["abc", "0", "99999999999999999999", "-1", "1e5"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/goods/{}/"),
        ("get", "/api/goods/{}/candles/"),
        ("get", "/api/prices/{}/"),
        ("get", "/api/sales/{}/"),
        ("put", "/api/sales/{}/generate-prices/"),
        ("get", "/api/orders/{}/"),
        ("delete", "/api/cart/items/{}/"),
        ("get", "/auth/users/{}/"),
    ],
)
def test_path_ids_refuse_what_is_not_an_id(staff: APIClient, method: str, path: str, bad: str) -> None:
    response = getattr(staff, method)(path.format(bad))
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID_ID, "code": "invalid_id"}


def test_body_ids_out_of_range_are_400_and_nothing_is_written(staff: APIClient, usd: Any) -> None:
    goods = GoodsFactory(price="5.00")
    answers = [
        staff.post("/api/cart/items/", {"goods": HUGE, "quantity": 1}, format="json"),
        staff.post("/api/orders/", {"items": [{"goods": HUGE, "quantity": 1}]}, format="json"),
        staff.post("/api/orders/", {"items": [{"goods": True, "quantity": 1}]}, format="json"),
        staff.post("/api/prices/", {"goods": HUGE, "amount": "1.00"}, format="json"),
        staff.post(
            "/api/sales/",
            {"name": "x", "min_price": "1.00", "max_price": "2.00", "goods": [goods.id, HUGE]},
            format="json",
        ),
    ]
    assert [a.status_code for a in answers] == [400] * 5
    assert "goods" in answers[0].json()
    assert answers[3].json() == {"goods": [INVALID_ID]}
    assert not CartItem.objects.exists()
    assert not Order.objects.exists()
    assert Price.objects.count() == 1


def test_a_bad_currency_in_a_cart_change_changes_nothing(shopper: APIClient, usd: Any) -> None:
    # was: 500 (a NUL byte reached PostgreSQL), after the cart had been emptied
    goods = GoodsFactory(price="5.00")
    shopper.post("/api/cart/items/", {"goods": goods.id}, format="json")

    response = shopper.delete("/api/cart/?currency=%00%F0%9F%98%80")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_currency"
    assert CartItem.objects.count() == 1
    response = shopper.post("/api/cart/items/?currency=EU%00", {"goods": goods.id}, format="json")
    assert response.status_code == 400
    assert CartItem.objects.get().quantity == 1


def test_options_on_me_with_a_json_body(shopper: APIClient) -> None:
    # was: 500 (DRF's metadata asked Djoser's "me" view for an object it only knows inside its handler)
    response = shopper.options("/auth/users/me/", {"email": "x@example.com"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Me"


@pytest.mark.parametrize("path", ["/auth/users/activation/", "/auth/users/reset_password_confirm/"])
def test_uid_and_token_must_be_strings(anon: APIClient, path: str) -> None:
    # was: 500 ('int' object has no attribute 'encode')
    body = {"uid": 0, "token": 5, "new_password": "a-long-new-passphrase"}
    response = anon.post(path, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"uid", "token"}


@pytest.mark.parametrize("key", ["k" * 256, "clé", "tab\there", "new\nline"])
def test_an_idempotency_key_is_printable_ascii_up_to_255(shopper: APIClient, usd: Any, key: str) -> None:
    goods = GoodsFactory(price="5.00")
    body = {"items": [{"goods": goods.id, "quantity": 1}]}
    response = shopper.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json() == {"detail": IDEMPOTENCY_KEY_INVALID, "code": "invalid_idempotency_key"}
    assert not Order.objects.exists()
    ok = shopper.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert ok.status_code == 201


def test_shoppers_see_no_prices_or_sale_goods_of_inactive_goods(
    shopper: APIClient, staff: APIClient, usd: Any
) -> None:
    shown, hidden = GoodsFactory(price="5.00"), GoodsFactory(price="6.00")
    sale = SaleFactory(goods=[shown, hidden])
    hidden.is_active = False
    hidden.save()
    hidden_price = Price.objects.get(goods=hidden)

    assert {p["goods"] for p in shopper.get("/api/prices/").json()["results"]} == {shown.id}
    assert shopper.get("/api/prices/", {"goods": hidden.id}).json()["results"] == []
    assert shopper.get(f"/api/prices/{hidden_price.id}/").status_code == 404
    assert shopper.get(f"/api/sales/{sale.id}/").json()["goods"] == [shown.id]
    assert [s["goods"] for s in shopper.get("/api/sales/").json()["results"]] == [[shown.id]]

    assert {p["goods"] for p in staff.get("/api/prices/").json()["results"]} == {shown.id, hidden.id}
    assert sorted(staff.get(f"/api/sales/{sale.id}/").json()["goods"]) == sorted([shown.id, hidden.id])


def test_an_order_has_at_most_so_many_lines(shopper: APIClient, usd: Any) -> None:
    goods = [GoodsFactory(price="1.00") for _ in range(MAX_ORDER_LINES + 1)]
    items = [{"goods": g.id, "quantity": 1} for g in goods]

    too_many = shopper.post("/api/orders/", {"items": items}, format="json")
    assert too_many.status_code == 400
    assert "items" in too_many.json()
    assert shopper.post("/api/orders/", {"items": items[:MAX_ORDER_LINES]}, format="json").status_code == 201

    for g in goods[:MAX_ORDER_LINES]:
        assert shopper.post("/api/cart/items/", {"goods": g.id}, format="json").status_code == 201
    full = shopper.post("/api/cart/items/", {"goods": goods[-1].id}, format="json")
    assert full.status_code == 400
    assert full.json() == {"detail": TOO_MANY_LINES, "code": "too_many_lines"}
    assert CartItem.objects.count() == MAX_ORDER_LINES


def test_orders_per_shopper_are_limited(shopper: APIClient, usd: Any, settings: Settings) -> None:
    settings.THROTTLE_ORDERS_PER_USER = "3/d"
    goods = GoodsFactory(price="1.00")
    body = {"items": [{"goods": goods.id, "quantity": 1}]}
    answers = [shopper.post("/api/orders/", body, format="json") for _ in range(3)]
    shopper.post("/api/cart/items/", {"goods": goods.id}, format="json")
    answers.append(shopper.post("/api/cart/checkout/", {}, format="json"))

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1]["Retry-After"]) >= 1
    assert Order.objects.count() == 3
    assert CartItem.objects.count() == 1  # the refused checkout left the cart alone


def test_candles_refuse_a_date_before_year_one(anon: APIClient, usd: Any) -> None:
    # was: 500 (the default window reached before year 1)
    goods = GoodsFactory(price="1.00")
    response = anon.get(f"/api/goods/{goods.id}/candles/", {"interval": "1d", "until": "0001-01-05T00:00Z"})
    assert response.status_code == 400
    assert "since" in response.json()
    early = anon.get(f"/api/goods/{goods.id}/candles/", {"interval": "1m", "until": "0001-01-05T00:00Z"})
    assert early.status_code == 200
    assert early.json()["candles"] == []


def test_candles_read_a_bounded_number_of_rows(
    anon: APIClient, usd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    goods = GoodsFactory(price="1.00")
    for amount in ("2.00", "3.00", "4.00"):
        prices_record(amounts={goods.id: Decimal(amount)}, source="manual")
    monkeypatch.setattr(selectors, "MAX_CANDLE_ROWS", 3)

    response = anon.get(f"/api/goods/{goods.id}/candles/")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_prices"

    since = (timezone.now() - timedelta(days=1)).isoformat()
    monkeypatch.setattr(selectors, "MAX_CANDLE_ROWS", 4)
    ok = anon.get(f"/api/goods/{goods.id}/candles/", {"since": since})
    assert ok.status_code == 200
    candles = ok.json()["candles"]  # one, or two if the minute turned between the prices
    assert (candles[0]["open"], candles[-1]["close"]) == ("1.00", "4.00")
    assert (max(c["high"] for c in candles), min(c["low"] for c in candles)) == ("4.00", "1.00")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_huge_number_does_not_stall_the_server(usd: Any, tmp_path: Path) -> None:
    # was: converting -1e99999999 to an int held the GIL for minutes: HTTP, the feed and the
    # ticker of that process stood still. Now each is refused before any conversion.
    hostile = ["/api/prices/?goods=-1e99999999", "/api/goods/?sale=-1e99999999", "/api/goods/1e99999999/"]
    with asgi_server(service_env(), tmp_path / "server.log") as base, ThreadPoolExecutor(10) as pool:
        attacks = [pool.submit(call, f"{base}{path}") for path in hostile * 3]
        health = pool.submit(call, f"{base}/healthz")  # while they are being answered
        assert health.result(timeout=10)[0] == 200
        assert [attack.result(timeout=10)[0] for attack in attacks] == [400] * len(attacks)
