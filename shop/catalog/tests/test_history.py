"""Price-history storage: daily partitions, retention into candles, the candles endpoint."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from shop.catalog.models import Goods, Price, PriceCandle
from shop.catalog.services.history import partition_name, price_history_retire, price_partitions_ensure
from shop.catalog.services.prices import prices_record
from shop.domain.candles import Candle, candles
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db

D = Decimal


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'catalog_price'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def insert_prices(goods: Goods, rows: list[tuple[datetime, str]]) -> None:
    """History written in the past (tests only: real prices are stamped by the database clock)."""
    with connection.cursor() as cursor:
        for at, amount in rows:
            cursor.execute(
                "INSERT INTO catalog_price (goods_id, amount, created_at, source) VALUES (%s, %s, %s, 'tick')",
                [goods.id, amount, at],
            )


def test_history_is_partitioned_by_day_ahead() -> None:
    today = timezone.now().astimezone(UTC).date()
    price_partitions_ensure()
    expected = {partition_name(today + timedelta(days=n)) for n in range(8)}
    assert expected <= partitions()
    assert "catalog_price_default" in partitions()
    assert price_partitions_ensure() == []  # idempotent


def test_prices_land_in_todays_partition(usd: Any) -> None:
    goods = GoodsFactory(price="1.00")
    name = partition_name(timezone.now().astimezone(UTC).date())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {name} WHERE goods_id = %s", [goods.id])  # noqa: S608
        assert cursor.fetchone()[0] == 1


def test_retention_rolls_old_days_into_candles_and_drops_them(usd: Any) -> None:
    # given: raw prices ten days ago, in their own partition, and prices today
    goods = GoodsFactory(price="5.00")
    old_day = (
        (timezone.now() - timedelta(days=10))
        .astimezone(UTC)
        .replace(hour=12, minute=0, second=0, microsecond=0)
    )
    price_partitions_ensure(since=old_day.date())
    insert_prices(
        goods,
        [
            (old_day, "10.00"),
            (old_day + timedelta(seconds=5), "12.00"),
            (old_day + timedelta(seconds=10), "9.00"),
            (old_day + timedelta(seconds=55), "11.00"),
            (old_day + timedelta(minutes=1), "20.00"),
        ],
    )
    old_partition = partition_name(old_day.date())
    assert old_partition in partitions()
    with connection.cursor() as cursor:  # as if committed: run the deferred foreign-key checks now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # when
    retired = price_history_retire(raw_days=3)
    # then
    assert old_partition in retired
    assert old_partition not in partitions()
    assert list(
        PriceCandle.objects.filter(goods=goods).values_list("minute", "open", "high", "low", "close")
    ) == [
        (old_day, D("10.00"), D("12.00"), D("9.00"), D("11.00")),
        (old_day + timedelta(minutes=1), D("20.00"), D("20.00"), D("20.00"), D("20.00")),
    ]
    assert Price.objects.filter(goods=goods).count() == 1  # today's price stays raw
    assert price_history_retire(raw_days=0) == []  # 0: keep everything


def test_candles_endpoint_serves_raw_and_rolled_up_history(anon: APIClient, usd: Any) -> None:
    from shop.tests.factories import CurrencyFactory

    CurrencyFactory(code="EUR", rate="0.5")
    goods = GoodsFactory()
    # rolled up: an hour two days ago
    past = (timezone.now() - timedelta(days=2)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    PriceCandle.objects.create(
        goods=goods, minute=past, open=D("1.00"), high=D("4.00"), low=D("0.50"), close=D("2.00")
    )
    PriceCandle.objects.create(
        goods=goods,
        minute=past + timedelta(minutes=1),
        open=D("2.00"),
        high=D("3.00"),
        low=D("1.50"),
        close=D("3.00"),
    )
    # raw: now
    for amount in ("7.00", "9.00", "8.00"):
        prices_record(amounts={goods.id: D(amount)}, source="manual")
    since = (past - timedelta(hours=1)).isoformat()

    hourly = anon.get(f"/api/goods/{goods.id}/candles/", {"interval": "1h", "since": since}).json()
    assert (hourly["goods"], hourly["interval"], hourly["currency"]) == (goods.id, "1h", "USD")
    first, last = hourly["candles"][0], hourly["candles"][-1]
    assert (first["open"], first["high"], first["low"], first["close"]) == ("1.00", "4.00", "0.50", "3.00")
    assert (last["open"], last["high"], last["low"], last["close"]) == ("7.00", "9.00", "7.00", "8.00")

    minutes = anon.get(f"/api/goods/{goods.id}/candles/?currency=EUR").json()  # default: 1m, last 24 h
    assert [c["close"] for c in minutes["candles"]] == ["4.00"]
    assert minutes["currency"] == "EUR"


@pytest.mark.parametrize(
    "query",
    [{"interval": "5m"}, {"since": "yesterday"}, {"interval": "1m", "since": "2020-01-01T00:00:00Z"},
     {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}],
)  # fmt: skip
def test_candles_bad_input(anon: APIClient, usd: Any, query: dict[str, str]) -> None:
    goods = GoodsFactory(price="1.00")
    response = anon.get(f"/api/goods/{goods.id}/candles/", query)
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


def test_candles_merge_in_time_order() -> None:
    t0 = datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC)
    points = [
        Candle(t0 + timedelta(seconds=s), D(a), D(a), D(a), D(a)) for s, a in ((0, "1"), (20, "3"), (40, "2"))
    ]
    assert candles(points, seconds=60) == [
        Candle(datetime(2026, 1, 1, 10, 0, tzinfo=UTC), D("1"), D("3"), D("1"), D("3")),
        Candle(datetime(2026, 1, 1, 10, 1, tzinfo=UTC), D("2"), D("2"), D("2"), D("2")),
    ]
