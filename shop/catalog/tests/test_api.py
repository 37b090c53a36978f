from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shop.catalog.models import Goods, Price, Sale
from shop.catalog.services.prices import prices_record
from shop.catalog.services.sales import GOODS_IN_OTHER_SALE, SALE_BOUNDS_INVALID, SALE_WINDOW_INVALID
from shop.core.ids import MAX_ID
from shop.core.pagination import INVALID_CURSOR, INVALID_LIMIT, INVALID_OFFSET
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def currencies(usd: Any) -> None:
    CurrencyFactory(code="EUR", rate="0.92")
    CurrencyFactory(code="JPY", decimals=0, rate="157.67483296")
    CurrencyFactory(code="KWD", decimals=3, rate="0.3075")


# --- goods -----------------------------------------------------------------


def test_goods_list_shape_and_pagination(anon: APIClient, currencies: None) -> None:
    # given
    goods = [GoodsFactory(price=f"{i}.50") for i in range(1, 4)]
    # when
    body = anon.get("/api/goods/?limit=2").json()
    # then
    assert body["count"] == 3
    assert body["next"] is not None and body["previous"] is None
    first = body["results"][0]
    assert set(first) == {
        "id",
        "name",
        "description",
        "is_active",
        "price",
        "price_updated_at",
        "currency",
        "sale",
        "stock",
        "available",
    }
    assert first == {
        **first,
        "id": goods[0].id,
        "price": "1.50",
        "currency": "USD",
        "sale": None,
        "stock": None,
        "available": None,
    }


# the plain page's statement and the filtered queryset
@pytest.mark.parametrize("search", [{}, {"search": "Goods"}])
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"offset": "9223372036854775808"}, {"detail": INVALID_OFFSET, "code": "invalid_offset"}),
        ({"offset": "99999999999999999999999"}, {"detail": INVALID_OFFSET, "code": "invalid_offset"}),
        ({"limit": "9223372036854775808"}, {"detail": INVALID_LIMIT, "code": "invalid_limit"}),
        ({"limit": "99999999999999999999999"}, {"detail": INVALID_LIMIT, "code": "invalid_limit"}),
    ],
)
def test_goods_list_refuses_a_limit_or_offset_out_of_range(
    anon: APIClient, usd: Any, search: dict[str, str], query: dict[str, str], error: dict[str, str]
) -> None:
    # was: 500 for the offsets (the plain page's statement took them as they came)
    GoodsFactory(price="1.00")
    response = anon.get("/api/goods/", {**query, **search})
    assert response.status_code == 400
    assert response.json() == error


def test_goods_list_takes_the_largest_offset(anon: APIClient, usd: Any) -> None:
    GoodsFactory(price="1.00")
    body = anon.get("/api/goods/", {"offset": str(MAX_ID), "limit": "500"}).json()
    assert (body["count"], body["results"], body["next"]) == (1, [], None)


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("EUR", "11.32"), ("JPY", "1939"), ("KWD", "3.782"), ("USD", "12.30"), ("eur", "11.32")],
)
def test_goods_price_converted_half_up(
    anon: APIClient, currencies: None, currency: str, expected: str
) -> None:
    goods = GoodsFactory(price="12.30")
    # 12.30 × 0.92 = 11.316 → 11.32; × 157.67483296 = 1939.40 → 1939; × 0.3075 = 3.78225 → 3.782
    body = anon.get(f"/api/goods/{goods.id}/?currency={currency}").json()
    assert body["price"] == expected
    assert body["currency"] == currency.upper()


@pytest.mark.parametrize("currency", ["XXX", "12", "EURO"])
def test_goods_unknown_currency_is_400(anon: APIClient, currencies: None, currency: str) -> None:
    response = anon.get(f"/api/goods/?currency={currency}")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_currency"


def test_goods_in_currency_without_rate_is_400(anon: APIClient, usd: Any) -> None:
    CurrencyFactory(code="CHF")
    response = anon.get("/api/goods/?currency=CHF")
    assert response.status_code == 400
    assert response.json()["code"] == "currency_has_no_rate"


def test_goods_detail_has_newest_50_prices_and_history_url(anon: APIClient, usd: Any) -> None:
    goods = GoodsFactory()
    for i in range(55):
        prices_record(amounts={goods.id: Decimal(f"{i + 1}.00")}, source="manual")
    body = anon.get(f"/api/goods/{goods.id}/").json()
    assert body["price"] == "55.00"
    assert len(body["prices"]) == 50
    assert [p["amount"] for p in body["prices"][:2]] == ["55.00", "54.00"]
    assert body["prices_url"].endswith(f"/api/prices/?goods={goods.id}")
    assert anon.get(body["prices_url"]).json()["results"][0]["amount"] == "55.00"


def test_goods_sale_field_names_the_running_sale(anon: APIClient, usd: Any) -> None:
    running, idle = GoodsFactory(price="1.00"), GoodsFactory(price="1.00")
    sale = SaleFactory(goods=[running])
    SaleFactory(goods=[idle], is_active=False)
    by_id = {g["id"]: g for g in anon.get("/api/goods/").json()["results"]}
    assert by_id[running.id]["sale"] == sale.id
    assert by_id[idle.id]["sale"] is None


def test_goods_filters_search_and_ordering(anon: APIClient, usd: Any) -> None:
    kettle = GoodsFactory(name="Kettle", price="30.00")
    teapot = GoodsFactory(name="Teapot", description="for tea", price="20.00")
    lamp = GoodsFactory(name="Lamp", price="10.00")
    sale = SaleFactory(goods=[kettle, lamp])

    def ids(query: str) -> list[int]:
        return [g["id"] for g in anon.get(f"/api/goods/?{query}").json()["results"]]

    assert ids(f"sale={sale.id}") == [kettle.id, lamp.id]
    assert ids("search=tea") == [teapot.id]
    assert ids("ordering=price") == [lamp.id, teapot.id, kettle.id]
    assert ids("ordering=-name") == [teapot.id, lamp.id, kettle.id]


def test_inactive_goods_hidden_from_shoppers_not_staff(
    shopper: APIClient, staff: APIClient, usd: Any
) -> None:
    hidden = GoodsFactory(is_active=False)
    assert shopper.get(f"/api/goods/{hidden.id}/").status_code == 404
    assert staff.get(f"/api/goods/{hidden.id}/").status_code == 200


def test_goods_create_update_delete(staff: APIClient, usd: Any) -> None:
    created = staff.post("/api/goods/", {"name": "Kettle", "description": "1.7 l"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["price"] is None and body["is_active"] is True
    goods_id = body["id"]
    patched = staff.patch(f"/api/goods/{goods_id}/", {"name": "Big kettle", "price": "1.00"}, format="json")
    assert patched.json()["name"] == "Big kettle"
    assert patched.json()["price"] is None  # price is read-only: prices are written through /api/prices/
    assert staff.delete(f"/api/goods/{goods_id}/").status_code == 204
    assert not Goods.objects.filter(id=goods_id).exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "is_active": "maybe"}, ["not", "an", "object"]],
)
def test_goods_bad_input(staff: APIClient, usd: Any, body: Any) -> None:
    response = staff.post("/api/goods/", body, format="json")
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
    assert Goods.objects.count() == 0


def test_malformed_json_is_400(staff: APIClient, usd: Any) -> None:
    response = staff.generic("POST", "/api/goods/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_unknown_goods_is_json_404(anon: APIClient, usd: Any) -> None:
    response = anon.get("/api/goods/999999/")
    assert response.status_code == 404
    assert response.json()["detail"]
    assert anon.get("/api/goods/not-a-number/").json()["code"] == "invalid_id"  # 400


# --- prices ----------------------------------------------------------------


def test_prices_cursor_pagination_newest_first(anon: APIClient, usd: Any) -> None:
    goods = GoodsFactory()
    for i in range(5):
        prices_record(amounts={goods.id: Decimal(f"{i + 1}.00")}, source="manual")
    page = anon.get(f"/api/prices/?goods={goods.id}&limit=2").json()
    assert set(page) == {"next", "previous", "results"}
    assert [p["amount"] for p in page["results"]] == ["5.00", "4.00"]
    page2 = anon.get(page["next"]).json()
    assert [p["amount"] for p in page2["results"]] == ["3.00", "2.00"]
    assert page2["results"][0] == {
        **page2["results"][0],
        "goods": goods.id,
        "currency": "USD",
        "source": "manual",
        "sale": None,
    }


def test_prices_cursor_links_lead_back_and_forth(anon: APIClient, usd: Any) -> None:
    goods = GoodsFactory()
    for i in range(5):
        prices_record(amounts={goods.id: Decimal(f"{i + 1}.00")}, source="manual")
    first = anon.get(f"/api/prices/?goods={goods.id}&limit=2").json()
    second = anon.get(first["next"]).json()
    back = anon.get(second["previous"]).json()
    assert [p["amount"] for p in back["results"]] == ["5.00", "4.00"]
    assert back["previous"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "cD1nYXJiYWdl",  # p=garbage
        "cD0yMDI2LTAxLTAxVDAwOjAwOjAwLTE5OjI4",  # p=2026-01-01T00:00:00-19:28 (PostgreSQL: -15:59 at most)
        "not base64!",  # undecodable: was DRF's 404 "Invalid cursor"
    ],
)
def test_prices_refuse_a_cursor_the_shop_did_not_write(anon: APIClient, usd: Any, cursor: str) -> None:
    # was: 500 for the first two (the position went to the query as it came)
    GoodsFactory(price="1.00")
    response = anon.get("/api/prices/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID_CURSOR, "code": "invalid_cursor"}


@pytest.mark.parametrize("limit", ["0", "501", "9223372036854775808", "99999999999999999999999"])
def test_prices_refuse_a_limit_out_of_range(anon: APIClient, usd: Any, limit: str) -> None:
    response = anon.get("/api/prices/", {"limit": limit})
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID_LIMIT, "code": "invalid_limit"}


def test_prices_since_until_are_inclusive(anon: APIClient, usd: Any) -> None:
    goods = GoodsFactory()
    stamps = []
    for i in range(3):
        stamps.append(prices_record(amounts={goods.id: Decimal(f"{i + 1}.00")}, source="manual").at)
    since, until = stamps[0].isoformat(), stamps[1].isoformat()
    results = anon.get("/api/prices/", {"goods": goods.id, "since": since, "until": until}).json()["results"]
    assert [p["amount"] for p in results] == ["2.00", "1.00"]


def test_prices_bad_filter_is_400(anon: APIClient, usd: Any) -> None:
    response = anon.get("/api/prices/?since=yesterday")
    assert response.status_code == 400
    assert "since" in response.json()


def test_manual_price_becomes_current(staff: APIClient, usd: Any) -> None:
    goods = GoodsFactory(price="1.00")
    response = staff.post("/api/prices/", {"goods": goods.id, "amount": "2.50"}, format="json")
    assert response.status_code == 201
    assert response.json()["source"] == "manual"
    assert staff.get(f"/api/goods/{goods.id}/").json()["price"] == "2.50"
    assert staff.get(f"/api/prices/{response.json()['id']}/").json()["amount"] == "2.50"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "1.00"}, "goods"),
        ({"goods": 999999, "amount": "1.00"}, "goods"),
        ({"goods": "{g}", "amount": "0"}, "amount"),
        ({"goods": "{g}", "amount": "-1.00"}, "amount"),
        ({"goods": "{g}", "amount": "1.005"}, "amount"),
        ({"goods": "{g}", "amount": "abc"}, "amount"),
        ({"goods": "{g}"}, "amount"),
    ],
)
def test_manual_price_bad_input(staff: APIClient, usd: Any, body: dict[str, Any], field: str) -> None:
    goods = GoodsFactory()
    body = {k: (goods.id if v == "{g}" else v) for k, v in body.items()}
    response = staff.post("/api/prices/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Price.objects.count() == 0


def test_prices_cannot_be_changed_or_deleted(staff: APIClient, usd: Any) -> None:
    goods = GoodsFactory(price="1.00")
    url = f"/api/prices/{goods.current_price_id}/"
    for method in ("put", "patch", "delete"):
        assert getattr(staff, method)(url, {"amount": "9.00"}, format="json").status_code == 405
    assert Price.objects.get().amount == Decimal("1.00")


# --- sales -----------------------------------------------------------------


def test_sale_create_and_representation(staff: APIClient, usd: Any) -> None:
    goods = GoodsFactory()
    body = {"name": "Spring", "min_price": "10", "max_price": "20.5", "goods": [goods.id]}
    response = staff.post("/api/sales/", body, format="json")
    assert response.status_code == 201, response.json()
    sale = response.json()
    assert sale == {
        "id": sale["id"],
        "name": "Spring",
        "min_price": "10.00",
        "max_price": "20.50",
        "goods": [goods.id],
        "is_active": True,
        "starts_at": None,
        "ends_at": None,
        "is_running": True,
        "strategy": "uniform",
        "step_percent": "2.00",
        "window_seconds": 300,
        "target_units": 1,
    }


def test_sale_is_running_follows_its_window(anon: APIClient, usd: Any) -> None:
    now = timezone.now()
    past = SaleFactory(starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    future = SaleFactory(starts_at=now + timedelta(days=1))
    off = SaleFactory(is_active=False)
    on = SaleFactory(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    running = {s["id"]: s["is_running"] for s in anon.get("/api/sales/").json()["results"]}
    assert running == {past.id: False, future.id: False, off.id: False, on.id: True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_price": "20.00", "max_price": "10.00"}, "detail"),
        ({"min_price": "0", "max_price": "10.00"}, "min_price"),
        ({"min_price": "-1", "max_price": "10.00"}, "min_price"),
        ({"min_price": "1.001", "max_price": "10.00"}, "min_price"),
        ({"min_price": "1.00"}, "max_price"),
        ({"min_price": "1.00", "max_price": "2.00", "goods": [999999]}, "goods"),
        ({"min_price": "1.00", "max_price": "2.00", "goods": "1"}, "goods"),
        ({"min_price": "1.00", "max_price": "2.00", "starts_at": "tomorrow"}, "starts_at"),
    ],
)
def test_sale_bad_input(staff: APIClient, usd: Any, body: dict[str, Any], field: str) -> None:
    response = staff.post("/api/sales/", {"name": "Bad", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Sale.objects.count() == 0


def test_sale_bounds_and_window_messages(staff: APIClient, usd: Any) -> None:
    bounds = staff.post("/api/sales/", {"name": "x", "min_price": "5.00", "max_price": "4.00"}, format="json")
    assert bounds.json()["detail"] == SALE_BOUNDS_INVALID
    now = timezone.now()
    window = {
        "name": "x",
        "min_price": "1.00",
        "max_price": "2.00",
        "starts_at": now.isoformat(),
        "ends_at": (now - timedelta(hours=1)).isoformat(),
    }
    assert staff.post("/api/sales/", window, format="json").json()["detail"] == SALE_WINDOW_INVALID


def test_goods_cannot_join_a_second_running_sale(staff: APIClient, usd: Any) -> None:
    goods, other = GoodsFactory(), GoodsFactory()
    first = SaleFactory(goods=[goods])
    body = {"name": "Second", "min_price": "1.00", "max_price": "2.00", "goods": [other.id, goods.id]}
    response = staff.post("/api/sales/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": GOODS_IN_OTHER_SALE,
        "code": "goods_in_other_sale",
        "goods": [goods.id],
    }
    assert Sale.objects.count() == 1
    # an inactive sale or one whose window does not overlap may hold the goods
    assert staff.post("/api/sales/", {**body, "is_active": False}, format="json").status_code == 201
    later = (timezone.now() + timedelta(days=30)).isoformat()
    SaleFactory.reset_sequence()
    patch = staff.patch(f"/api/sales/{first.id}/", {"ends_at": later}, format="json")
    assert patch.status_code == 200
    after = {**body, "starts_at": later}
    assert staff.post("/api/sales/", after, format="json").status_code == 201
    # re-activating the inactive one now overlaps the first sale
    inactive = Sale.objects.get(is_active=False)
    assert staff.patch(f"/api/sales/{inactive.id}/", {"is_active": True}, format="json").status_code == 400


def test_generate_prices_draws_within_bounds_then_429(staff: APIClient, usd: Any) -> None:
    goods = [GoodsFactory(price="1.00") for _ in range(3)]
    sale = SaleFactory(goods=goods, min_price=Decimal("5.00"), max_price=Decimal("6.00"))
    first = staff.put(f"/api/sales/{sale.id}/generate-prices/")
    assert first.status_code == 200
    prices = first.json()
    assert sorted(p["goods"] for p in prices) == [g.id for g in goods]
    assert all(Decimal("5.00") <= Decimal(p["amount"]) <= Decimal("6.00") for p in prices)
    assert {p["source"] for p in prices} == {"on_demand"} and {p["sale"] for p in prices} == {sale.id}
    second = staff.put(f"/api/sales/{sale.id}/generate-prices/")
    assert second.status_code == 429
    assert 1 <= int(second["Retry-After"]) <= 5
    assert second.json()["code"] == "rate_limited"
    assert Price.objects.filter(source="on_demand").count() == 3


def test_generate_prices_of_a_sale_that_is_not_running_is_409(staff: APIClient, usd: Any) -> None:
    sale = SaleFactory(goods=[GoodsFactory()], is_active=False)
    response = staff.put(f"/api/sales/{sale.id}/generate-prices/")
    assert response.status_code == 409
    assert response.json()["code"] == "sale_not_running"


# --- bulk create ----------------------------------------------------------------


def test_staff_create_a_list_of_goods_all_at_once_in_order(staff: APIClient, usd: Any) -> None:
    rows = [{"name": f"Lamp {i}", "description": "bright", "is_active": i % 2 == 0} for i in range(1000)]

    response = staff.post("/api/goods/", rows, format="json")

    assert response.status_code == 201
    created = response.json()
    assert [g["name"] for g in created] == [r["name"] for r in rows]
    assert [g["is_active"] for g in created] == [r["is_active"] for r in rows]
    ids = [g["id"] for g in created]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    assert created[0] | {"id": 0} == {
        "id": 0, "name": "Lamp 0", "description": "bright", "is_active": True, "price": None,
        "price_updated_at": None, "currency": "USD", "sale": None, "stock": None, "available": None,
    }  # fmt: skip
    assert Goods.objects.filter(id__in=ids).count() == 1000


def test_a_bad_row_creates_nothing_and_is_named(staff: APIClient, usd: Any) -> None:
    rows = [{"name": "fine"}, {"description": "no name"}, {"name": "fine too"}, {"name": "x" * 300}]

    response = staff.post("/api/goods/", rows, format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], sorted(body["rows"])) == ("invalid_rows", ["1", "3"])
    assert "name" in body["rows"]["1"] and "name" in body["rows"]["3"]
    assert not Goods.objects.exists()


@pytest.mark.parametrize("size", [0, 1001])
def test_a_list_holds_one_to_a_thousand_goods(staff: APIClient, usd: Any, size: int) -> None:
    response = staff.post("/api/goods/", [{"name": "n"}] * size, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "bulk_size"
    assert not Goods.objects.exists()


def test_shoppers_cannot_bulk_create(shopper: APIClient, anon: APIClient) -> None:
    assert shopper.post("/api/goods/", [{"name": "n"}], format="json").status_code == 403
    assert anon.post("/api/goods/", [{"name": "n"}], format="json").status_code == 401
