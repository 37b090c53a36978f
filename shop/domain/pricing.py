"""Price drawing for ticks and on-demand generation (SPEC §4)."""

import random
from collections.abc import Callable
from decimal import Decimal

from shop.domain.money import CENT

# Draws an integer uniformly from [a, b], both inclusive (random.randint's contract).
RandInt = Callable[[int, int], int]


def cent_bounds(min_price: Decimal, max_price: Decimal) -> tuple[int, int]:
    """The whole cents in [min_price, max_price], as (lowest, highest) counts of cents."""
    low = int((min_price / CENT).to_integral_value(rounding="ROUND_CEILING"))
    high = int((max_price / CENT).to_integral_value(rounding="ROUND_FLOOR"))
    if low <= 0 or low > high:
        raise ValueError(f"no whole cent in [{min_price}, {max_price}]")
    return low, high


def draw_price(min_price: Decimal, max_price: Decimal, randint: RandInt = random.randint) -> Decimal:
    """A price drawn uniformly from the whole cents in [min_price, max_price], inclusive."""
    return draw_prices(1, min_price, max_price, randint)[0]


def draw_prices(
    count: int, min_price: Decimal, max_price: Decimal, randint: RandInt = random.randint
) -> list[Decimal]:
    """``count`` independent draws of :func:`draw_price` (the bounds worked out once)."""
    low, high = cent_bounds(min_price, max_price)
    return [Decimal(randint(low, high)).scaleb(-2) for _ in range(count)]
