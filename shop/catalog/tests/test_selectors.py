"""Catalog selectors, function by function (scenario tests are in test_api.py)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from shop.catalog import selectors
from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Price, Tick
from shop.catalog.selectors import OrderableGoods, goods_orderable, goods_orderable_get
from shop.catalog.services.prices import prices_record
from shop.core.errors import ValidationError
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


class Row(NamedTuple):
    id: int
    name: str
    is_active: bool
    price: Decimal | None
    current_price_id: int | None
    stock: int | None = None
    reserved: int = 0


@pytest.mark.parametrize(
    ("row", "orderable"),
    [
        (
            Row(1, "A", True, Decimal("1.00"), 7),
            OrderableGoods(id=1, name="A", price_id=7, price=Decimal("1.00")),
        ),
        (Row(1, "A", False, Decimal("1.00"), 7), None),  # inactive
        (Row(1, "A", True, None, None), None),  # never priced
    ],
)
def test_goods_orderable_is_an_active_goods_with_a_price(row: Row, orderable: OrderableGoods | None) -> None:
    assert goods_orderable(row) == orderable


def test_goods_orderable_get_leaves_out_what_cannot_be_ordered(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given: a priced goods, an inactive one, one without a price
    priced = GoodsFactory(name="Priced", price="12.50")
    inactive = GoodsFactory(price="1.00", is_active=False)
    unpriced = GoodsFactory()
    # when
    with django_assert_num_queries(1):
        found = goods_orderable_get(goods_ids=[priced.id, inactive.id, unpriced.id, 999_999])
    # then
    assert found == {
        priced.id: OrderableGoods(
            id=priced.id, name="Priced", price_id=priced.current_price_id, price=Decimal("12.50")
        )
    }


D = Decimal


def test_sale_running_list_follows_the_window() -> None:
    now = timezone.now()
    running = SaleFactory(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    SaleFactory(starts_at=now + timedelta(hours=1))
    SaleFactory(ends_at=now)
    SaleFactory(is_active=False)
    assert list(selectors.sale_running_list(at=now)) == [running]


def test_sale_list_shows_shoppers_active_goods_only() -> None:
    active, inactive = GoodsFactory(), GoodsFactory(is_active=False)
    SaleFactory(goods=[active, inactive])
    assert list(selectors.sale_list().get().goods.all()) == [active]
    assert set(selectors.sale_list(include_inactive_goods=True).get().goods.all()) == {active, inactive}


def test_goods_list_names_the_running_sale() -> None:
    in_sale, idle, inactive = GoodsFactory(), GoodsFactory(), GoodsFactory(is_active=False)
    sale = SaleFactory(goods=[in_sale])
    SaleFactory(goods=[idle], is_active=False)
    shown = {g.id: g.running_sale_id for g in selectors.goods_list()}
    assert shown == {in_sale.id: sale.id, idle.id: None}
    assert inactive.id in {g.id for g in selectors.goods_list(include_inactive=True)}


def test_goods_detail_get_matches_goods_list() -> None:
    goods, inactive = GoodsFactory(), GoodsFactory(is_active=False)
    sale = SaleFactory(goods=[goods])
    detail = selectors.goods_detail_get(goods_id=goods.id)
    assert detail is not None
    assert (detail.id, detail.running_sale_id) == (goods.id, sale.id)
    assert selectors.goods_detail_get(goods_id=inactive.id) is None
    assert selectors.goods_detail_get(goods_id=inactive.id, include_inactive=True) is not None
    assert selectors.goods_detail_get(goods_id=0) is None


def test_goods_board_searches_and_sorts_with_unpriced_last() -> None:
    cheap, dear, unpriced = (
        GoodsFactory(name="Tea cup", price="1.00"),
        GoodsFactory(name="Teapot", price="9.00"),
        GoodsFactory(name="Tea tin"),
    )
    GoodsFactory(name="Kettle", price="5.00")
    assert list(selectors.goods_board(search="tea", sort="price")) == [cheap, dear, unpriced]
    assert list(selectors.goods_board(search="tea", sort="-price")) == [dear, cheap, unpriced]
    assert [g.name for g in selectors.goods_board(search="TEA")] == ["Tea cup", "Tea tin", "Teapot"]


def test_goods_shown_get_hides_inactive_goods() -> None:
    active, inactive = GoodsFactory(), GoodsFactory(is_active=False)
    assert selectors.goods_shown_get(goods_id=active.id) == active
    assert selectors.goods_shown_get(goods_id=inactive.id) is None


def test_price_list_and_the_newest_prices() -> None:
    goods, hidden = GoodsFactory(price="1.00"), GoodsFactory(price="2.00", is_active=False)
    prices_record(amounts={goods.id: D("3.00")}, source=Price.Source.MANUAL)
    assert set(selectors.price_list().values_list("goods_id", flat=True)) == {goods.id}
    assert selectors.price_list(include_inactive_goods=True, goods_id=hidden.id).count() == 1
    newest = selectors.price_recent(goods_id=goods.id, limit=1)
    assert [p.amount for p in newest] == [D("3.00")]
    rows = selectors.price_recent_rows(goods_id=goods.id)
    assert [(amount, source) for _, amount, _, source, _ in rows] == [
        (D("3.00"), "manual"),
        (D("1.00"), "manual"),
    ]


def test_price_kept_until(settings: Any) -> None:
    at = timezone.now()
    settings.PRICE_HISTORY_RAW_DAYS = 0
    assert selectors.price_kept_until(at) is None
    settings.PRICE_HISTORY_RAW_DAYS = 7
    assert selectors.price_kept_until(at) == at + timedelta(days=7)


def test_price_current_list_is_the_feeds_snapshot() -> None:
    a, b = GoodsFactory(price="1.00"), GoodsFactory(price="2.00")
    GoodsFactory()  # no price yet
    GoodsFactory(price="3.00", is_active=False)
    assert [(g, p) for g, p, _ in selectors.price_current_list()] == [(a.id, D("1.00")), (b.id, D("2.00"))]
    assert [g for g, _, _ in selectors.price_current_list(goods_ids=[b.id])] == [b.id]


def test_the_active_goods_of_sales() -> None:
    a, b, inactive = GoodsFactory(), GoodsFactory(), GoodsFactory(is_active=False)
    first, second = SaleFactory(goods=[b, inactive]), SaleFactory(goods=[a])
    assert selectors.goods_active_of_sales(sale_ids=[first.id]) == [(b.id, first.id)]
    assert selectors.goods_active_of_sales(sale_ids=[first.id, second.id]) == [
        (a.id, second.id),
        (b.id, first.id),
    ]
    assert selectors.goods_active_of_sales(sale_ids=[]) == []


def test_price_candles_and_their_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    goods = GoodsFactory(price="1.00")
    prices_record(amounts={goods.id: D("3.00")}, source=Price.Source.MANUAL)
    now = timezone.now()
    [candle] = selectors.price_candles(
        goods_id=goods.id, seconds=3600, since=now - timedelta(hours=1), until=now + timedelta(hours=1)
    )
    assert (candle.open, candle.high, candle.low, candle.close) == (
        D("1.00"),
        D("3.00"),
        D("1.00"),
        D("3.00"),
    )
    monkeypatch.setattr(selectors, "MAX_CANDLE_ROWS", 1)
    with pytest.raises(ValidationError) as caught:
        selectors.price_candles(
            goods_id=goods.id, seconds=60, since=now - timedelta(hours=1), until=now + timedelta(hours=1)
        )
    assert caught.value.code == CatalogErrorCode.TOO_MANY_PRICES


def test_ticks_health() -> None:
    now = timezone.now()
    assert selectors.ticks_health(now=now).body["status"] == "idle"
    SaleFactory(goods=[GoodsFactory()], starts_at=now - timedelta(hours=1))
    report = selectors.ticks_health(now=now)
    assert (report.body["status"], report.ok) == ("stalled", False)
    Tick.objects.create(slot=1, started_at=now)
    assert selectors.ticks_health(now=now).body == {"status": "ok", "last_at": now.isoformat()}
