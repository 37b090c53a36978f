"""What an order costs: the one pricing step of the cart quote, checkout and placement (SPEC §4).

It reads no row. Callers hand it the goods they read and the rate they found (the quote as
they stand now, placement under its locks, shop.orders.services.orders), so that a quote
and an order placed at the same prices and rate come to the same lines and sums.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from shop.catalog.selectors import OrderableGoods
from shop.domain.orders import Line, OrderSum, compute_order_sum


@dataclass(frozen=True)
class PricedLine:
    goods: OrderableGoods
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.goods.price * self.quantity


@dataclass(frozen=True)
class OrderPrice:
    # The goods that can be ordered, in the order they were asked for; the others (unknown,
    # inactive, no price) are in neither the lines nor the sums.
    lines: list[PricedLine]
    sums: OrderSum


def order_price(
    *, items: Mapping[int, int], goods: Mapping[int, OrderableGoods], rate: Decimal, decimals: int
) -> OrderPrice:
    """Price ``items`` (goods id -> quantity) at the current prices in ``goods`` and at ``rate``,
    in a currency of ``decimals`` digits, with this deployment's markup and fee."""
    lines = [PricedLine(goods=goods[g], quantity=q) for g, q in items.items() if g in goods]
    sums = compute_order_sum(
        [Line(line.goods.price, line.quantity) for line in lines],
        markup_percent=settings.ORDER_MARKUP_PERCENT,
        fixed_fee=settings.ORDER_FIXED_FEE,
        exchange_rate=rate,
        decimals=decimals,
    )
    return OrderPrice(lines=lines, sums=sums)
