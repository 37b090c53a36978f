"""SPEC §4's permission table over every catalog/currency endpoint, from one table."""

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.catalog.models import Goods, Sale
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory


@dataclass
class World:
    goods: Goods
    spare: Goods
    sale: Sale
    price_id: int


@pytest.fixture
def world(usd: Any) -> World:
    CurrencyFactory(code="EUR", rate="0.92")
    goods = GoodsFactory(price="12.30")
    spare = GoodsFactory(price="5.00")
    sale = SaleFactory(goods=[goods])
    return World(goods=goods, spare=spare, sale=sale, price_id=goods.current_price_id)


# (method, path, body) -> status for anonymous, shopper, staff.
READ = (200, 200, 200)
ROWS: list[tuple[str, str, dict[str, Any] | None, tuple[int, int, int | None]]] = [
    ("get", "/api/currency/", None, READ),
    ("post", "/api/currency/", {"code": "GBP", "name": "Pound", "decimals": 2}, (401, 403, 201)),
    ("get", "/api/currency/EUR/", None, READ),
    ("put", "/api/currency/EUR/", {"code": "EUR", "name": "Euro", "symbol": "€", "decimals": 2, "is_active": True}, (401, 403, 200)),
    ("patch", "/api/currency/EUR/", {"name": "Euro"}, (401, 403, 200)),
    ("get", "/api/currency/EUR/rates/", None, READ),
    ("post", "/api/currency/EUR/rates/", {"rate": "0.93"}, (401, 403, 201)),
    ("get", "/api/goods/", None, READ),
    ("post", "/api/goods/", {"name": "Kettle"}, (401, 403, 201)),
    ("get", "/api/goods/{goods}/", None, READ),
    ("put", "/api/goods/{goods}/", {"name": "Teapot", "description": "", "is_active": True}, (401, 403, 200)),
    ("patch", "/api/goods/{goods}/", {"name": "Teapot"}, (401, 403, 200)),
    ("delete", "/api/goods/{spare}/", None, (401, 403, 204)),
    ("get", "/api/prices/", None, READ),
    ("post", "/api/prices/", {"goods": "{goods}", "amount": "9.99"}, (401, 403, 201)),
    ("get", "/api/prices/{price}/", None, READ),
    ("get", "/api/sales/", None, READ),
    ("post", "/api/sales/", {"name": "Flash", "min_price": "1.00", "max_price": "2.00", "goods": ["{spare}"]}, (401, 403, 201)),
    ("get", "/api/sales/{sale}/", None, READ),
    ("put", "/api/sales/{sale}/", {"name": "Renamed", "min_price": "1.00", "max_price": "3.00", "goods": ["{goods}"], "is_active": True}, (401, 403, 200)),
    ("patch", "/api/sales/{sale}/", {"name": "Renamed"}, (401, 403, 200)),
    ("delete", "/api/sales/{sale}/", None, (401, 403, 204)),
    ("put", "/api/sales/{sale}/generate-prices/", None, (401, 403, 200)),
]  # fmt: skip


def _fill(value: Any, world: World) -> Any:
    names = {"goods": world.goods.id, "spare": world.spare.id, "sale": world.sale.id, "price": world.price_id}
    if isinstance(value, str):
        for name, number in names.items():
            if value == "{" + name + "}":
                return number
            value = value.replace("{" + name + "}", str(number))
        return value
    if isinstance(value, list):
        return [_fill(item, world) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    return value


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anon", "shopper", "staff"])
@pytest.mark.parametrize(("method", "path", "body", "expected"), ROWS, ids=[f"{r[0]} {r[1]}" for r in ROWS])
def test_permission_table(
    request: pytest.FixtureRequest,
    world: World,
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: tuple[int, int, int | None],
) -> None:
    # given
    client: APIClient = request.getfixturevalue(role)
    status = expected[("anon", "shopper", "staff").index(role)]
    # when
    response = getattr(client, method)(_fill(path, world), _fill(body, world), format="json")
    # then
    assert response.status_code == status, response.content
    if status != 204:
        assert response["Content-Type"].startswith("application/json")
    if status in (401, 403):
        assert "detail" in response.json()
