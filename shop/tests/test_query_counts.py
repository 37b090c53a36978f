"""No N+1: the queries of every list and detail endpoint do not grow with its rows."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from shop.accounts.models import User
from shop.catalog.services.prices import prices_record
from shop.core.cache import representations
from shop.orders.services.cart import cart_add_item
from shop.orders.services.orders import order_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


def grow(user: User, n: int) -> None:
    """n more of everything: goods with prices in a sale, rates, orders, cart lines."""
    goods = [GoodsFactory(price="10.00") for _ in range(n)]
    SaleFactory(goods=goods, is_active=False)
    for g in goods:
        prices_record(amounts={g.id: g.price + 1}, source="manual")
        order_create(user=user, currency_code="EUR", items=[(g.id, 1), (goods[0].id, 2)])
        cart_add_item(user=user, goods_id=g.id, quantity=1)
    CurrencyFactory(code="EUR", rate="0.9")


URLS = [
    "/api/goods/",
    "/api/goods/?currency=EUR",
    "/api/goods/1/",
    "/api/prices/",
    "/api/sales/",
    "/api/currency/",
    "/api/currency/EUR/rates/",
    "/api/orders/",
    "/api/cart/?currency=EUR",
]


def count(client: APIClient, url: str) -> int:
    representations.clear()  # the cold path: a cached goods detail costs fewer (test_read_cache.py)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries)


@pytest.mark.parametrize("url", URLS)
def test_queries_do_not_grow_with_rows(usd: Any, shopper_user: User, url: str) -> None:
    client = APIClient()
    client.force_authenticate(shopper_user)
    CurrencyFactory(code="EUR", rate="0.9")
    grow(shopper_user, 2)
    url = url.replace("/goods/1/", f"/goods/{GoodsFactory(price='1.00').id}/")
    few = count(client, url)
    grow(shopper_user, 8)
    assert count(client, url) == few
    assert few <= 6


def test_order_detail_queries(usd: Any, shopper_user: User) -> None:
    client = APIClient()
    client.force_authenticate(shopper_user)
    CurrencyFactory(code="EUR", rate="0.9")
    goods = [GoodsFactory(price="10.00") for _ in range(10)]
    order = order_create(user=shopper_user, currency_code="EUR", items=[(g.id, 1) for g in goods]).order
    assert count(client, f"/api/orders/{order.id}/") <= 4


def place(client: APIClient, lines: int, **headers: str) -> tuple[int, list[str]]:
    goods = [GoodsFactory(price="10.00") for _ in range(lines)]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/orders/",
            {"currency": "EUR", "items": [{"goods": g.id, "quantity": 2} for g in goods]},
            format="json",
            **headers,
        )
    assert response.status_code == 201, response.content[:300]
    return len(queries), [q["sql"].split()[0] for q in queries.captured_queries]


def test_placing_an_order_costs_the_same_few_queries_for_any_number_of_lines(
    usd: Any, shopper_user: User
) -> None:
    # given: a shopper with a bearer token, as every API client sends it
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(shopper_user).access_token}")
    CurrencyFactory(code="EUR", rate="0.9")
    # when / then: the user; lock and read currency and goods; clock and rate; order and
    # lines in one insert; webhook endpoints; around them the transaction (a savepoint in tests)
    few, statements = place(client, 3)
    assert few == 7, statements
    assert statements == ["SELECT", "SAVEPOINT", "WITH", "WITH", "WITH", "SELECT", "RELEASE"]
    assert place(client, 30)[0] == few
    # with an Idempotency-Key: the currency checked first, the key claimed, then given the order
    assert place(client, 3, HTTP_IDEMPOTENCY_KEY="q-1")[0] == few + 3
    assert place(client, 30, HTTP_IDEMPOTENCY_KEY="q-2")[0] == few + 3
