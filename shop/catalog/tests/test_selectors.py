"""Catalog selectors, function by function (scenario tests are in test_api.py)."""

from decimal import Decimal
from typing import NamedTuple

import pytest
from pytest_django import DjangoAssertNumQueries

from shop.catalog.selectors import OrderableGoods, goods_orderable, goods_orderable_get
from shop.tests.factories import GoodsFactory


class Row(NamedTuple):
    id: int
    name: str
    is_active: bool
    price: Decimal | None
    current_price_id: int | None


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


@pytest.mark.django_db
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
