import random
from decimal import Decimal

import pytest

from shop.domain.price_draw import PriceDraw, draw_price


def test_draws_cover_both_bounds_and_only_whole_cents() -> None:
    rng = random.Random(7)
    seen = {draw_price(Decimal("1.00"), Decimal("1.05"), rng.randint) for _ in range(500)}
    assert seen == {Decimal(f"1.0{i}") for i in range(6)}


def test_injected_random_source_picks_extremes() -> None:
    assert draw_price(Decimal("10.00"), Decimal("20.00"), lambda a, b: a) == Decimal("10.00")
    assert draw_price(Decimal("10.00"), Decimal("20.00"), lambda a, b: b) == Decimal("20.00")


def test_equal_bounds_give_that_price() -> None:
    assert draw_price(Decimal("3.33"), Decimal("3.33")) == Decimal("3.33")


@pytest.mark.parametrize(("low", "high"), [("0.00", "0.00"), ("5.00", "4.99"), ("1.001", "1.009")])
def test_empty_ranges_are_refused(low: str, high: str) -> None:
    with pytest.raises(ValueError, match="no whole cent"):
        draw_price(Decimal(low), Decimal(high))


def test_a_draw_prices_each_goods_within_its_own_sale_in_goods_order() -> None:
    # given: goods 1 and 3 in sale 10, goods 2 in sale 20, a source that picks the lowest cent
    draw = PriceDraw(
        goods_ids=[1, 2, 3],
        sale_of={1: 10, 2: 20, 3: 10},
        bounds={10: (Decimal("1.00"), Decimal("2.00")), 20: (Decimal("5.005"), Decimal("6.00"))},
        randint=lambda low, high: low,
    )

    # then: (goods, amount, sale) rows, goods order kept
    assert draw.drawn() == [(1, Decimal("1.00"), 10), (2, Decimal("5.01"), 20), (3, Decimal("1.00"), 10)]
