"""Price drawing for ticks and on-demand generation (SPEC §4)."""

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PriceDraw:
    """A price to draw for each of ``goods_ids`` (in goods order) within its sale's bounds:
    a tick's chunk. ``sale_of`` maps goods to sale, ``bounds`` sale to (min_price, max_price)."""

    goods_ids: Sequence[int]
    sale_of: Mapping[int, int]
    bounds: Mapping[int, tuple[Decimal, Decimal]]
    randint: RandInt = random.randint

    def drawn(self) -> list[tuple[int, Decimal, int]]:
        """(goods, amount, sale) in goods order, each sale's prices drawn by :func:`draw_prices`."""
        amounts: dict[int, Decimal] = {}
        for sale, (low, high) in self.bounds.items():
            of_sale = [goods for goods in self.goods_ids if self.sale_of[goods] == sale]
            amounts.update(zip(of_sale, draw_prices(len(of_sale), low, high, self.randint), strict=True))
        return [(goods, amounts[goods], self.sale_of[goods]) for goods in self.goods_ids]
