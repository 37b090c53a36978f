"""Price drawing for ticks and on-demand generation (SPEC §4)."""

import random
from collections.abc import Callable
from decimal import Decimal

from shop.domain.money import CENT

# Draws an integer uniformly from [a, b], both inclusive (random.randint's contract).
RandInt = Callable[[int, int], int]


def draw_price(min_price: Decimal, max_price: Decimal, randint: RandInt = random.randint) -> Decimal:
    """A price drawn uniformly from the whole cents in [min_price, max_price], inclusive."""
    low = int((min_price / CENT).to_integral_value(rounding="ROUND_CEILING"))
    high = int((max_price / CENT).to_integral_value(rounding="ROUND_FLOOR"))
    if low <= 0 or low > high:
        raise ValueError(f"no whole cent in [{min_price}, {max_price}]")
    return Decimal(randint(low, high)) * CENT


def draw_prices(
    count: int, min_price: Decimal, max_price: Decimal, randint: RandInt = random.randint
) -> list[Decimal]:
    """``count`` independent draws of :func:`draw_price`."""
    return [draw_price(min_price, max_price, randint) for _ in range(count)]
