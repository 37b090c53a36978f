"""SPEC §4's permission table over every catalog/currency endpoint, from one table, and the admin's
model permission each staff write needs (shop.core.permissions)."""

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.catalog.models import Goods, Sale
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory, staff_permissions
from shop.webhooks.models import WebhookEndpoint
from shop.webhooks.services.endpoints import endpoint_create


@dataclass
class World:
    goods: Goods
    spare: Goods
    sale: Sale
    price_id: int
    endpoint: WebhookEndpoint


@pytest.fixture
def world(usd: Any) -> World:
    CurrencyFactory(code="EUR", rate="0.92")
    goods = GoodsFactory(price="12.30")
    spare = GoodsFactory(price="5.00")
    sale = SaleFactory(goods=[goods])
    endpoint = endpoint_create(url=HOOK, events=["order.created"])
    return World(goods=goods, spare=spare, sale=sale, price_id=goods.current_price_id, endpoint=endpoint)


HOOK = "https://93.184.216.34/hook"  # a public address: no name to look up

# (method, path, body) -> status for anonymous, shopper, staff; for a write, the model permission
# the admin gives staff for it (shop.core.permissions: staff write what their permissions allow).
READ = (200, 200, 200)
ROWS: list[tuple[str, str, dict[str, Any] | None, tuple[int, int, int | None], str | None]] = [
    ("get", "/api/currency/", None, READ, None),
    ("post", "/api/currency/", {"code": "GBP", "name": "Pound", "decimals": 2}, (401, 403, 201), "currency.add_currency"),
    ("get", "/api/currency/EUR/", None, READ, None),
    ("put", "/api/currency/EUR/", {"code": "EUR", "name": "Euro", "symbol": "€", "decimals": 2, "is_active": True}, (401, 403, 200), "currency.change_currency"),
    ("patch", "/api/currency/EUR/", {"name": "Euro"}, (401, 403, 200), "currency.change_currency"),
    ("get", "/api/currency/EUR/rates/", None, READ, None),
    ("post", "/api/currency/EUR/rates/", {"rate": "0.93"}, (401, 403, 201), "currency.add_exchangerate"),
    ("get", "/api/goods/", None, READ, None),
    ("post", "/api/goods/", {"name": "Kettle"}, (401, 403, 201), "catalog.add_goods"),
    ("post", "/api/goods/", [{"name": "Kettle"}, {"name": "Mug"}], (401, 403, 201), "catalog.add_goods"),
    ("get", "/api/goods/{goods}/", None, READ, None),
    ("put", "/api/goods/{goods}/", {"name": "Teapot", "description": "", "is_active": True}, (401, 403, 200), "catalog.change_goods"),
    ("patch", "/api/goods/{goods}/", {"name": "Teapot"}, (401, 403, 200), "catalog.change_goods"),
    ("delete", "/api/goods/{spare}/", None, (401, 403, 204), "catalog.delete_goods"),
    ("get", "/api/prices/", None, READ, None),
    ("post", "/api/prices/", {"goods": "{goods}", "amount": "9.99"}, (401, 403, 201), "catalog.add_price"),
    ("get", "/api/prices/{price}/", None, READ, None),
    ("get", "/api/sales/", None, READ, None),
    ("post", "/api/sales/", {"name": "Flash", "min_price": "1.00", "max_price": "2.00", "goods": ["{spare}"]}, (401, 403, 201), "catalog.add_sale"),
    ("get", "/api/sales/{sale}/", None, READ, None),
    ("put", "/api/sales/{sale}/", {"name": "Renamed", "min_price": "1.00", "max_price": "3.00", "goods": ["{goods}"], "is_active": True}, (401, 403, 200), "catalog.change_sale"),
    ("patch", "/api/sales/{sale}/", {"name": "Renamed"}, (401, 403, 200), "catalog.change_sale"),
    ("delete", "/api/sales/{sale}/", None, (401, 403, 204), "catalog.delete_sale"),
    ("put", "/api/sales/{sale}/generate-prices/", None, (401, 403, 200), "catalog.change_sale"),
    # Webhooks are staff's only, reads included (SPEC §12).
    ("get", "/api/webhooks/", None, (401, 403, 200), None),
    ("post", "/api/webhooks/", {"url": HOOK, "events": ["order.created"]}, (401, 403, 201), "webhooks.add_webhookendpoint"),
    ("get", "/api/webhooks/{endpoint}/", None, (401, 403, 200), None),
    ("patch", "/api/webhooks/{endpoint}/", {"description": "ours"}, (401, 403, 200), "webhooks.change_webhookendpoint"),
    ("delete", "/api/webhooks/{endpoint}/", None, (401, 403, 204), "webhooks.delete_webhookendpoint"),
]  # fmt: skip
WRITES = [row for row in ROWS if row[4] is not None]


def _fill(value: Any, world: World) -> Any:
    names = {
        "goods": world.goods.id,
        "spare": world.spare.id,
        "sale": world.sale.id,
        "price": world.price_id,
        "endpoint": world.endpoint.id,
    }
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
@pytest.mark.parametrize(
    ("method", "path", "body", "expected", "permission"), ROWS, ids=[f"{r[0]} {r[1]}" for r in ROWS]
)
def test_permission_table(
    request: pytest.FixtureRequest,
    world: World,
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: tuple[int, int, int | None],
    permission: str | None,
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


@pytest.mark.django_db
@pytest.mark.parametrize("grant", ["none", "others", "its own", "superuser"])
@pytest.mark.parametrize(
    ("method", "path", "body", "expected", "permission"), WRITES, ids=[f"{r[0]} {r[1]}" for r in WRITES]
)
def test_staff_write_what_their_model_permissions_allow(
    world: World,
    grant: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: tuple[int, int, int | None],
    permission: str,
) -> None:
    # given: staff with no permission, with every shop permission but this one, with only this one,
    # or a superuser (who holds every permission without being given any)
    everything_else = [name for name in staff_permissions() if name != permission]
    user = {
        "none": lambda: UserFactory(is_staff=True, permissions=[]),
        "others": lambda: UserFactory(is_staff=True, permissions=everything_else),
        "its own": lambda: UserFactory(is_staff=True, permissions=[permission]),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True, permissions=[]),
    }[grant]()
    # when
    client = APIClient()
    client.force_authenticate(user)
    response = getattr(client, method)(_fill(path, world), _fill(body, world), format="json")
    # then
    if grant in ("none", "others"):
        assert response.status_code == 403, response.content
        assert response.json() == {
            "detail": "You do not have permission to perform this action.",
            "code": "permission_denied",
        }
    else:
        assert response.status_code == expected[2], response.content


@pytest.mark.django_db
def test_a_method_a_view_lacks_is_405_for_staff_too(staff: APIClient) -> None:
    # the API root has no model and no POST: nothing to check a permission against
    response = staff.post("/api/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
