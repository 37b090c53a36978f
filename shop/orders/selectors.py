from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.catalog.selectors import goods_orderable
from shop.currency.models import Currency, ExchangeRate
from shop.currency.selectors import rate_active
from shop.domain.orders import OrderSum
from shop.orders.models import CartItem, Order, OrderLine
from shop.orders.order_price import order_price


@dataclass(frozen=True)
class QuoteLine:
    goods: Goods
    quantity: int
    added_price: Decimal | None
    unit_price: Decimal | None  # None: the goods cannot be ordered now (inactive, no price)
    held: int = 0  # units this line holds (cart reservations, SPEC §13) until held_until
    held_until: datetime | None = None

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


def cart_items(*, user: User) -> QuerySet[CartItem]:
    return CartItem.objects.filter(cart__user=user).select_related("goods")


def cart_quote(*, user: User, currency: Currency) -> CartQuote:
    """The cart priced now: what an order would cost if placed at this moment (the same
    pricing step as placing it, at the prices and rate current now)."""
    rate = rate_active(currency_code=currency.code)
    items = list(cart_items(user=user))
    now = timezone.now()
    orderable = (goods_orderable(item.goods) for item in items)
    priced = order_price(
        items={item.goods_id: item.quantity for item in items},
        goods={goods.id: goods for goods in orderable if goods is not None},
        rate=rate.rate,
        decimals=currency.decimals,
    )
    unit_prices = {line.goods.id: line.goods.price for line in priced.lines}
    lines = [
        QuoteLine(
            goods=item.goods,
            quantity=item.quantity,
            added_price=item.added_price,
            unit_price=unit_prices.get(item.goods_id),
            held=item.held if item.held_until and item.held_until > now else 0,
            held_until=item.held_until if item.held_until and item.held_until > now else None,
        )
        for item in items
    ]
    return CartQuote(currency=currency, rate=rate, lines=lines, sums=priced.sums)


def order_list(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("currency").prefetch_related("items", "events")


def units_ordered_since(since: datetime) -> dict[int, int]:
    """Goods id -> units in orders not cancelled created at or after ``since``: the demand the
    ``demand`` pricing strategy follows (registered with shop.catalog.demand). One query over the
    window's orders (index order_created)."""
    rows = (
        OrderLine.objects.filter(order__created_at__gte=since)
        .exclude(order__status=Order.Status.CANCELLED)
        .order_by()
        .values("goods_id")
        .annotate(units=Sum("quantity"))
        .values_list("goods_id", "units")
    )
    return dict(rows)
