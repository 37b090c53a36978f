"""goods_update_many with ``stock`` (a catalog import with a stock column): the stock service's
semantics, on PostgreSQL and SQLite."""

import re
from typing import Any

import pytest

from shop.catalog.models import Goods
from shop.catalog.services.goods import goods_update_many
from shop.catalog.services.stock import STOCK_NOT_NEGATIVE
from shop.catalog.stock_store import StockRow
from shop.core.errors import ValidationError
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def tracked(stock: int | None) -> Goods:
    goods: Goods = GoodsFactory()
    Goods.objects.filter(pk=goods.pk).update(stock=stock)
    goods.refresh_from_db()
    return goods


def stocks(*goods: Goods) -> list[int | None]:
    return [Goods.objects.values_list("stock", flat=True).get(pk=g.pk) for g in goods]


def test_with_stock_the_stock_is_set_and_the_changed_levels_announced_after_commit(
    announced: list[StockRow], django_capture_on_commit_callbacks: Any
) -> None:
    # given
    counted, stopped, same = tracked(5), tracked(4), tracked(2)
    counted.stock, stopped.stock, same.name = 8, None, "Renamed"
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        goods_update_many(goods=[counted, stopped, same], stock=True)
        assert announced == []  # not before the commit
    # then: set, and the two that changed announced as they are now
    assert callbacks and stocks(counted, stopped, same) == [8, None, 2]
    rows = Goods.objects.filter(pk__in=[counted.pk, stopped.pk]).order_by("id")
    assert announced == [StockRow(*row) for row in rows.values_list("id", "stock", "reserved", "version")]


def test_without_stock_the_stock_is_left_alone(
    announced: list[StockRow], django_capture_on_commit_callbacks: Any
) -> None:
    goods = tracked(5)
    goods.stock, goods.name = 1, "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        goods_update_many(goods=[goods])
    assert stocks(goods) == [5] and Goods.objects.get(pk=goods.pk).name == "Renamed"
    assert announced == []


def test_a_stock_below_zero_is_refused_and_nothing_is_written(announced: list[StockRow]) -> None:
    good, bad = tracked(5), tracked(5)
    good.stock, bad.stock, good.name = 6, -1, "Renamed"
    with pytest.raises(ValidationError, match=re.escape(STOCK_NOT_NEGATIVE)):
        goods_update_many(goods=[good, bad], stock=True)
    assert stocks(good, bad) == [5, 5] and Goods.objects.get(pk=good.pk).name != "Renamed"
