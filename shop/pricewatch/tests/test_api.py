"""/api/alerts/ and /api/standing-orders/ as a client sees them (SPEC §15)."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import bearer
from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.pricewatch.models import Alert, StandingOrder
from shop.pricewatch.services.matching import prices_match
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def goods(usd: Any) -> Goods:
    CurrencyFactory(code="EUR", rate="0.5")
    return GoodsFactory(name="Lamp", price="20.00")


def in_a_day() -> str:
    return (timezone.now() + timedelta(days=1)).isoformat()


def test_anonymous_is_401(anon: APIClient) -> None:
    for path in ("/api/alerts/", "/api/standing-orders/"):
        answer = anon.get(path)
        assert answer.status_code == 401
        assert "detail" in answer.json()


def test_an_alert_is_created_listed_read_and_deleted(shopper: APIClient, goods: Goods) -> None:
    created = shopper.post(
        "/api/alerts/",
        {"goods": goods.id, "currency": "EUR", "direction": "below", "price": "9.5"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "goods": goods.id,
        "goods_name": "Lamp",
        "currency": "EUR",
        "direction": "below",
        "price": "9.50",
        "status": "open",
        "created_at": body["created_at"],
        "triggered_at": None,
        "price_id": None,
        "value": None,
    }
    assert shopper.get("/api/alerts/").json()["results"] == [body]
    assert shopper.get(f"/api/alerts/{body['id']}/").json() == body
    assert shopper.delete(f"/api/alerts/{body['id']}/").status_code == 204
    assert shopper.get(f"/api/alerts/{body['id']}/").status_code == 404


def test_a_fired_alert_shows_what_fired_it(shopper: APIClient, goods: Goods) -> None:
    alert_id = shopper.post(
        "/api/alerts/", {"goods": goods.id, "direction": "below", "price": "15"}, format="json"
    ).json()["id"]
    batch = prices_record(amounts={goods.id: goods.price - 6}, source="manual")  # 14.00 USD
    prices_match(at=batch.at, first=batch.ids[0], last=batch.ids[0])
    body = shopper.get(f"/api/alerts/{alert_id}/").json()
    assert (body["currency"], body["status"], body["price_id"], body["value"]) == (
        "USD",
        "triggered",
        batch.ids[0],
        "14.00",
    )
    assert shopper.get("/api/alerts/?status=open").json()["count"] == 0
    assert shopper.get("/api/alerts/?status=triggered").json()["count"] == 1
    assert shopper.get(f"/api/alerts/?goods={goods.id + 1}").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"goods": None, "direction": "below", "price": "9"}, "goods"),
        ({"goods": "x", "direction": "below", "price": "9"}, "goods"),
        ({"direction": "sideways", "price": "9"}, "direction"),
        ({"direction": "below", "price": "0"}, "price"),
        ({"direction": "below", "price": "-1"}, "price"),
        ({"direction": "below", "price": "abc"}, "price"),
        ({"direction": "below"}, "price"),
    ],
)
def test_bad_alert_input_is_400_and_writes_nothing(
    shopper: APIClient, goods: Goods, body: dict[str, Any], field: str
) -> None:
    answer = shopper.post("/api/alerts/", {"goods": goods.id, **body}, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"currency": "XYZ"}, "unknown_currency"),
        ({"price": "9.123"}, "price_decimals"),
        ({"goods": 10**9}, "goods_unavailable"),
    ],
)
def test_alert_rules_are_400_with_a_code(
    shopper: APIClient, goods: Goods, body: dict[str, Any], code: str
) -> None:
    answer = shopper.post(
        "/api/alerts/", {"goods": goods.id, "direction": "below", "price": "9", **body}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == code


def test_the_alert_cap_is_a_409(shopper: APIClient, goods: Goods, settings: Any) -> None:
    settings.ALERTS_PER_USER = 1
    body = {"goods": goods.id, "direction": "below", "price": "9"}
    assert shopper.post("/api/alerts/", body, format="json").status_code == 201
    refused = shopper.post("/api/alerts/", body, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "alerts_limit"


def test_another_shoppers_alert_and_standing_order_are_404(shopper: APIClient, goods: Goods) -> None:
    other = bearer(UserFactory())
    alert_id = other.post(
        "/api/alerts/", {"goods": goods.id, "direction": "below", "price": "9"}, format="json"
    ).json()["id"]
    standing_id = other.post(
        "/api/standing-orders/",
        {"goods": goods.id, "quantity": 1, "limit_price": "9", "expires_at": in_a_day()},
        format="json",
    ).json()["id"]
    assert shopper.get(f"/api/alerts/{alert_id}/").status_code == 404
    assert shopper.delete(f"/api/alerts/{alert_id}/").status_code == 404
    assert shopper.get(f"/api/standing-orders/{standing_id}/").status_code == 404
    assert shopper.post(f"/api/standing-orders/{standing_id}/cancel/").status_code == 404
    assert shopper.get("/api/alerts/").json()["count"] == 0
    assert Alert.objects.count() == 1 and StandingOrder.objects.get().status == "open"


def test_a_standing_order_is_created_filled_and_cannot_then_be_cancelled(
    shopper: APIClient, goods: Goods
) -> None:
    created = shopper.post(
        "/api/standing-orders/",
        {"goods": goods.id, "quantity": 2, "currency": "EUR", "limit_price": "9", "expires_at": in_a_day()},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["limit_price"], body["currency"], body["order"], body["closed_at"]) == (
        "open", "9.00", "EUR", None, None,
    )  # fmt: skip
    batch = prices_record(amounts={goods.id: goods.price - 3}, source="manual")  # 8.50 EUR
    prices_match(at=batch.at, first=batch.ids[0], last=batch.ids[0])
    filled = shopper.get(f"/api/standing-orders/{body['id']}/").json()
    assert filled["status"] == "filled"
    order = shopper.get(f"/api/orders/{filled['order']}/").json()
    assert [(item["goods"], item["quantity"], item["unit_price"]) for item in order["items"]] == [
        (goods.id, 2, "17.00")
    ]
    assert order["currency"] == "EUR"
    refused = shopper.post(f"/api/standing-orders/{body['id']}/cancel/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert refused.json()["status"] == "filled"


def test_a_standing_order_is_cancelled(shopper: APIClient, goods: Goods) -> None:
    standing_id = shopper.post(
        "/api/standing-orders/",
        {"goods": goods.id, "quantity": 1, "limit_price": "9", "expires_at": in_a_day()},
        format="json",
    ).json()["id"]
    cancelled = shopper.post(f"/api/standing-orders/{standing_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["closed_at"] is not None
    assert shopper.get("/api/standing-orders/?status=cancelled").json()["count"] == 1
    assert shopper.get("/api/standing-orders/?status=open").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1001}, "quantity"),
        ({"limit_price": "0"}, "limit_price"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": None}, "expires_at"),
    ],
)
def test_bad_standing_order_input_is_400(
    shopper: APIClient, goods: Goods, body: dict[str, Any], field: str
) -> None:
    answer = shopper.post(
        "/api/standing-orders/",
        {"goods": goods.id, "quantity": 1, "limit_price": "9", "expires_at": in_a_day(), **body},
        format="json",
    )
    assert answer.status_code == 400
    assert field in answer.json()
    assert not StandingOrder.objects.exists()


def test_an_expiry_past_seven_days_is_400(shopper: APIClient, goods: Goods) -> None:
    answer = shopper.post(
        "/api/standing-orders/",
        {
            "goods": goods.id,
            "quantity": 1,
            "limit_price": "9",
            "expires_at": (timezone.now() + timedelta(days=8)).isoformat(),
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "expires_at"


@pytest.mark.parametrize("query", ["status=sideways", "goods=x", "status=triggered"])
def test_a_bad_list_filter_is_400(shopper: APIClient, query: str) -> None:
    answer = shopper.get(f"/api/standing-orders/?{query}")
    assert answer.status_code == 400
    assert answer.json()
