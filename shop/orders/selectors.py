from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.currency.models import Currency, ExchangeRate
from shop.currency.selectors import rate_active
from shop.domain.orders import Line, OrderSum, compute_order_sum
from shop.orders.models import Cart, CartItem, Order


@dataclass(frozen=True)
class QuoteLine:
    goods: Goods
    quantity: int
    added_price: Decimal | None
    unit_price: Decimal | None  # None: the goods cannot be ordered now (inactive, no price)

    @property
    def line_total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


@dataclass(frozen=True)
class CartQuote:
    currency: Currency
    rate: ExchangeRate
    lines: list[QuoteLine]
    sums: OrderSum

    @property
    def unavailable(self) -> list[int]:
        return [line.goods.id for line in self.lines if line.unit_price is None]


def order_sum_of(lines: list[Line], *, rate: Decimal, decimals: int) -> OrderSum:
    """SPEC §4's order sum with this deployment's markup and fee."""
    return compute_order_sum(
        lines,
        markup_percent=settings.ORDER_MARKUP_PERCENT,
        fixed_fee=settings.ORDER_FIXED_FEE,
        exchange_rate=rate,
        decimals=decimals,
    )


def cart_items(*, user: User) -> QuerySet[CartItem]:
    return CartItem.objects.filter(cart__user=user).select_related("goods")


def cart_quote(*, user: User, currency: Currency) -> CartQuote:
    """The cart priced now: what an order would cost if placed at this moment."""
    rate = rate_active(currency_code=currency.code)
    lines = [
        QuoteLine(
            goods=item.goods,
            quantity=item.quantity,
            added_price=item.added_price,
            unit_price=item.goods.price if item.goods.is_active else None,
        )
        for item in cart_items(user=user)
    ]
    sums = order_sum_of(
        [Line(line.unit_price, line.quantity) for line in lines if line.unit_price is not None],
        rate=rate.rate,
        decimals=currency.decimals,
    )
    return CartQuote(currency=currency, rate=rate, lines=lines, sums=sums)


def cart_get_or_none(*, user: User) -> Cart | None:
    return Cart.objects.filter(user=user).first()


def order_list(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("currency").prefetch_related("items")


INVARIANT_SQL = """
SELECT
  (SELECT count(*) FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
    WHERE l.price_id IS DISTINCT FROM (
      SELECT p.id FROM catalog_price p
      WHERE p.goods_id = l.goods_id AND p.created_at <= o.created_at
      ORDER BY p.created_at DESC, p.id DESC LIMIT 1)),
  (SELECT count(*) FROM orders_order o
    WHERE o.rate_id IS DISTINCT FROM (
      SELECT r.id FROM currency_exchangerate r
      WHERE r.currency_id = o.currency_id AND r.valid_from <= o.created_at
      ORDER BY r.valid_from DESC, r.id DESC LIMIT 1))
"""


def order_invariant_violations() -> tuple[int, int]:
    """(order lines, orders) breaking SPEC §4's consistency invariant; (0, 0) when it holds.

    A line must hold its goods' newest price at the order's created_at, and the
    order the newest rate of its currency at that moment.
    """
    with connection.cursor() as cursor:
        cursor.execute(INVARIANT_SQL)
        lines, orders = cursor.fetchone()
    return int(lines), int(orders)
