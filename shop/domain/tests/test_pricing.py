import random
from decimal import Decimal

import pytest

from shop.domain.pricing import draw_price


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
