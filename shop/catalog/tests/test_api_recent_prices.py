"""GET /api/prices/recent/: the newest prices of up to 100 goods in one request (the board's sparklines)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.catalog.api import RECENT_GOODS_INVALID, RECENT_LIMIT_INVALID
from shop.catalog.history_store import OrmHistoryStore, PostgresHistoryStore
from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db

URL = "/api/prices/recent/"
START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def insert_prices(goods: Goods, amounts: list[str]) -> None:
    """History in the past, one price every 5 s from START (real prices are stamped by the
    database's clock)."""
    with connection.cursor() as cursor:
        for n, amount in enumerate(amounts):
            cursor.execute(
                "INSERT INTO catalog_price (goods_id, amount, created_at, source) VALUES (%s, %s, %s, 'tick')",
                [goods.id, amount, START + timedelta(seconds=5 * n)],
            )


def amounts(body: dict[str, Any]) -> dict[int, list[str]]:
    return {entry["goods"]: [p["amount"] for p in entry["prices"]] for entry in body["results"]}


def test_the_newest_prices_of_each_goods_in_the_order_asked(anon: APIClient, usd: Any) -> None:
    # given: two goods with history, one without any price
    tea, lamp, bare = GoodsFactory(name="Tea"), GoodsFactory(name="Lamp"), GoodsFactory(name="Bare")
    insert_prices(tea, ["1.00", "1.10", "1.20", "1.30"])
    insert_prices(lamp, ["20.00", "21.00", "22.50"])
    # when
    response = anon.get(URL, {"goods": f"{lamp.id},{bare.id},{tea.id},{lamp.id}", "limit": "2"})
    # then: goods in the order asked (each once), newest first, at most `limit` each; none without prices
    assert response.status_code == 200
    body = response.json()
    assert (body["currency"], body["limit"]) == ("USD", 2)
    assert [entry["goods"] for entry in body["results"]] == [lamp.id, tea.id]
    assert amounts(body) == {lamp.id: ["22.50", "21.00"], tea.id: ["1.30", "1.20"]}
    newest = body["results"][0]["prices"][0]
    assert set(newest) == {"id", "amount", "created_at"}
    assert datetime.fromisoformat(newest["created_at"]) == START + timedelta(seconds=10)
    assert isinstance(newest["id"], int)


def test_the_limit_defaults_to_20(anon: APIClient, usd: Any) -> None:
    tea = GoodsFactory()
    insert_prices(tea, [f"{n}.00" for n in range(1, 31)])
    body = anon.get(URL, {"goods": str(tea.id)}).json()
    assert body["limit"] == 20
    assert amounts(body)[tea.id] == [f"{n}.00" for n in range(30, 10, -1)]


def test_a_price_just_written_is_the_newest(anon: APIClient, usd: Any) -> None:
    tea = GoodsFactory()
    insert_prices(tea, ["1.00"])
    prices_record(amounts={tea.id: Decimal("9.99")}, source="manual")
    assert amounts(anon.get(URL, {"goods": str(tea.id)}).json())[tea.id] == ["9.99", "1.00"]


def test_inactive_goods_are_hidden_from_shoppers_as_in_every_public_price_read(
    anon: APIClient, staff: APIClient, usd: Any
) -> None:
    # given: an active goods and an inactive one, both with prices
    shown, retired = GoodsFactory(), GoodsFactory(is_active=False)
    insert_prices(shown, ["1.00"])
    insert_prices(retired, ["2.00"])
    query = {"goods": f"{shown.id},{retired.id}"}
    # then: shoppers see the active one only, as /api/prices/ shows them; staff see both
    assert amounts(anon.get(URL, query).json()) == {shown.id: ["1.00"]}
    assert anon.get("/api/prices/", {"goods": retired.id}).json()["results"] == []
    assert amounts(staff.get(URL, query).json()) == {shown.id: ["1.00"], retired.id: ["2.00"]}


BAD_GOODS = [
    "", "abc", "0", "-1", "1,,2", "1,", ",1", "1, 2", " 1", "1.0", "1e5", "０", str(2**63),
    ",".join(str(n) for n in range(1, 102)),  # 101 ids
    "1," * 5000 + "1",  # refused by counting, before any parsing
]  # fmt: skip


@pytest.mark.parametrize("goods", BAD_GOODS)
def test_bad_goods_are_a_400_naming_the_field(anon: APIClient, usd: Any, goods: str) -> None:
    response = anon.get(URL, {"goods": goods})
    assert response.status_code == 400
    assert response.json() == {"goods": [RECENT_GOODS_INVALID]}


def test_goods_are_required(anon: APIClient, usd: Any) -> None:
    response = anon.get(URL)
    assert response.status_code == 400
    assert list(response.json()) == ["goods"]


@pytest.mark.parametrize("limit", ["0", "51", "-1", "abc", "1.5", " 5", "9" * 30])
def test_a_bad_limit_is_a_400_naming_the_field(anon: APIClient, usd: Any, limit: str) -> None:
    response = anon.get(URL, {"goods": "1", "limit": limit})
    assert response.status_code == 400
    assert response.json() == {"limit": [RECENT_LIMIT_INVALID]}


def test_100_goods_and_50_prices_are_one_query(anon: APIClient, usd: Any) -> None:
    # given: a board page's worth of goods and more (100, the most one request takes)
    goods = [GoodsFactory() for _ in range(100)]
    for g in goods[:10]:
        insert_prices(g, [f"{n}.00" for n in range(1, 61)])
    ids = ",".join(str(g.id) for g in goods)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = anon.get(URL, {"goods": ids, "limit": "50"})
    # then
    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert [len(entry["prices"]) for entry in response.json()["results"]] == [50] * 10


@pytest.mark.parametrize("include_inactive", [False, True])
def test_postgres_and_the_orm_store_agree(usd: Any, include_inactive: bool) -> None:
    # given: goods with histories of different lengths (one price shares its instant with another
    # goods'), an inactive one and one without prices
    goods = [GoodsFactory() for _ in range(4)] + [GoodsFactory(is_active=False)]
    for n, g in enumerate(goods[:3] + goods[4:]):
        insert_prices(g, [f"{n + 1}.{k:02d}" for k in range(3 * n + 1)])
    asked = [goods[2].id, goods[4].id, goods[0].id, goods[3].id, goods[1].id, 10**12]
    # when
    both = [
        store.recent(goods_ids=asked, limit=3, include_inactive=include_inactive)
        for store in (PostgresHistoryStore(), OrmHistoryStore())
    ]
    # then
    assert both[0] == both[1]
    shown = [row[0] for row in both[0]]
    expected = [goods[2].id] * 3 + ([goods[4].id] * 3 if include_inactive else []) + [goods[0].id]
    assert shown == expected + [goods[1].id] * 3


def test_the_schema_documents_it(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/prices/recent/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"goods", "limit"}
    assert {"200", "400"} <= set(operation["responses"])
    assert {} in operation["security"]  # a public read
