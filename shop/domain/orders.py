"""Order rules (SPEC §4): quantity limits and the order-sum formula, pure Decimal rounded once."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from shop.domain.money import quantize

HUNDRED = Decimal(100)
MIN_QUANTITY, MAX_QUANTITY = 1, 1000  # of one goods in one line
MAX_ORDER_LINES = 100  # distinct goods in one order (and so in one cart)


def quantity_allowed(quantity: int) -> bool:
    """The one quantity rule of carts and orders: a whole number from 1 to MAX_QUANTITY."""
    return MIN_QUANTITY <= quantity <= MAX_QUANTITY


@dataclass(frozen=True)
class Line:
    unit_price: Decimal  # base currency
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class OrderSum:
    subtotal: Decimal  # base currency, unrounded
    markup: Decimal
    fee: Decimal
    total: Decimal
    exchange_rate: Decimal
    order_sum: Decimal  # order currency, rounded to its decimals


def compute_order_sum(
    lines: Iterable[Line],
    *,
    markup_percent: Decimal,
    fixed_fee: Decimal,
    exchange_rate: Decimal,
    decimals: int,
) -> OrderSum:
    """subtotal + markup + fee in the base currency, converted and rounded once.

    >>> compute_order_sum([Line(Decimal("100.00"), 1)], markup_percent=Decimal(30),
    ...     fixed_fee=Decimal("10.10"), exchange_rate=Decimal("0.92"), decimals=2).order_sum
    Decimal('128.89')
    """
    subtotal = sum((line.total for line in lines), Decimal(0))
    markup = subtotal * markup_percent / HUNDRED
    total = subtotal + markup + fixed_fee
    return OrderSum(
        subtotal=subtotal,
        markup=markup,
        fee=fixed_fee,
        total=total,
        exchange_rate=exchange_rate,
        order_sum=quantize(total * exchange_rate, decimals),
    )
