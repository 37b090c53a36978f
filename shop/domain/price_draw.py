"""Price drawing for ticks and on-demand generation (SPEC §4)."""

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from shop.domain.money import CENT
from shop.domain.price_strategies import Strategy, StrategyRule, demand_next, starts_afresh, walk_next

# Draws an integer uniformly from [a, b], both inclusive (random.randint's contract).
RandInt = Callable[[int, int], int]
# Draws a number uniformly from [a, b] (random.uniform's contract): a walk's ``u``.
Uniform = Callable[[float, float], float]


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
    a tick's chunk. ``sale_of`` maps goods to sale, ``bounds`` sale to (min_price, max_price).

    ``strategies`` gives the sales that do not draw uniformly their rule (SPEC §14); their goods
    move from ``current`` (goods -> current price) by a walk or by ``demand`` (goods -> units
    ordered in its sale's window; none: 0)."""

    goods_ids: Sequence[int]
    sale_of: Mapping[int, int]
    bounds: Mapping[int, tuple[Decimal, Decimal]]
    randint: RandInt = random.randint
    strategies: Mapping[int, StrategyRule] = field(default_factory=dict)
    current: Mapping[int, Decimal | None] = field(default_factory=dict)
    demand: Mapping[int, int] = field(default_factory=dict)
    uniform: Uniform = random.uniform

    @property
    def follows_paths(self) -> bool:
        """Whether any of its sales moves prices from the current ones (walk, demand)."""
        return any(rule.strategy != Strategy.UNIFORM for rule in self.strategies.values())

    def drawn(self) -> list[tuple[int, Decimal, int]]:
        """(goods, amount, sale) in goods order: each sale's prices drawn by :func:`draw_prices`,
        then, for the goods of a walk or demand sale with a current price within its bounds,
        moved from it instead (shop.domain.price_strategies)."""
        amounts: dict[int, Decimal] = {}
        for sale, (low, high) in self.bounds.items():
            of_sale = [goods for goods in self.goods_ids if self.sale_of[goods] == sale]
            amounts.update(zip(of_sale, draw_prices(len(of_sale), low, high, self.randint), strict=True))
        for goods in self.goods_ids:
            sale = self.sale_of[goods]
            rule, (low, high), current = self.strategies.get(sale), self.bounds[sale], self.current.get(goods)
            if (
                rule is None
                or rule.strategy == Strategy.UNIFORM
                or current is None
                or starts_afresh(current, low, high)
            ):
                continue
            if rule.strategy == Strategy.WALK:
                step = float(rule.step)
                amounts[goods] = walk_next(current, Decimal(repr(self.uniform(-step, step))), low, high)
            else:
                amounts[goods] = demand_next(
                    current,
                    self.demand.get(goods, 0),
                    target_units=rule.target_units,
                    step=rule.step,
                    low=low,
                    high=high,
                )
        return [(goods, amounts[goods], self.sale_of[goods]) for goods in self.goods_ids]
