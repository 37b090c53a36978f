"""Placing orders: one consistent snapshot of prices and rate (SPEC §4)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from shop.accounts.models import User
from shop.catalog.services.stock import insufficient_stock, stock_announce
from shop.catalog.stock_store import stock_store
from shop.core.errors import Conflict, ValidationError
from shop.core.events import Each, EventType, event_emit
from shop.currency.models import Currency
from shop.currency.selectors import currency_active_get, currency_code_clean
from shop.domain.money import convert, format_amount
from shop.domain.orders import MAX_ORDER_LINES, MAX_QUANTITY, quantity_allowed
from shop.domain.stock import stock_available, stock_shortfalls
from shop.orders.emails import OrderEmail, order_email_schedule, order_emails_schedule
from shop.orders.errors import OrderErrorCode
from shop.orders.models import Cart, Order, OrderLine
from shop.orders.order_price import OrderPrice, order_price
from shop.orders.services.holds import holds_on, holds_refresh
from shop.orders.services.idempotency import idempotency_bind, idempotency_claim, idempotency_key_clean
from shop.orders.store import order_store

NO_ITEMS = "An order needs at least one item."
QUANTITY_RANGE = f"Quantities are whole numbers from 1 to {MAX_QUANTITY}."
GOODS_UNAVAILABLE = "These goods cannot be ordered (unknown, inactive or without a price)."
ORDER_SUM_TOO_HIGH = "The order sum is higher than max_order_sum; nothing was ordered."
TOO_MANY_LINES = f"An order has at most {MAX_ORDER_LINES} different goods."


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool  # True when an Idempotency-Key returned an earlier order


def quantity_check(quantity: int) -> None:
    """400 unless ``quantity`` is one a cart line or an order line may have."""
    if not quantity_allowed(quantity):
        raise ValidationError(QUANTITY_RANGE, code=OrderErrorCode.QUANTITY_RANGE)


def goods_unavailable(goods_ids: list[int]) -> ValidationError:
    return ValidationError(GOODS_UNAVAILABLE, code=OrderErrorCode.GOODS_UNAVAILABLE, goods=goods_ids)


def merge_items(items: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Goods id -> quantity; the same goods twice in one request is merged into one line."""
    merged: dict[int, int] = {}
    for goods_id, quantity in items:
        merged[goods_id] = merged.get(goods_id, 0) + quantity
    if not merged:
        raise ValidationError(NO_ITEMS, code=OrderErrorCode.NO_ITEMS)
    if len(merged) > MAX_ORDER_LINES:
        raise ValidationError(TOO_MANY_LINES, code=OrderErrorCode.TOO_MANY_LINES)
    for quantity in merged.values():
        quantity_check(quantity)
    return merged


def order_place(
    *,
    user: User,
    currency_code: str,
    items: dict[int, int],
    max_order_sum: Decimal | None,
    cart: Cart | None = None,
) -> Order:
    """Freeze prices and rate and write the order; inside the caller's transaction.

    Consistency invariant (SPEC §4): every line holds the goods' price with the
    greatest created_at <= the order's created_at, and the order the rate with
    the greatest valid_from <= it. Price writers lock goods FOR UPDATE and rate
    writers lock the currency FOR UPDATE before they read the clock
    (shop.catalog.services.prices). Here the goods (FOR NO KEY UPDATE those
    whose stock the order may take, FOR SHARE the others) and the currency (FOR
    SHARE) are locked first and the clock is read after, in the next statement: a writer that committed
    before our lock has an older timestamp and is visible to the statements
    after it (a locked row is read in its newest committed version); a writer
    that comes after us waits for our commit and gets a newer timestamp. That
    holds under READ COMMITTED, where each statement takes a new snapshot, and
    does not rely on now(), which is the transaction's start.

    Stock (SPEC §13): the units are checked against the locked rows and taken
    in this transaction; an order short of any goods is refused whole (409
    insufficient_stock) and takes nothing. The database's CHECK (stock >= 0)
    backs the check. With cart reservations on, the goods' holds are counted
    afresh first; ``cart`` is a checkout's, whose own holds the order converts.

    Three statements on PostgreSQL: lock and read; clock and rate (and the
    tracked stock taken); insert the order with its lines.
    What it costs is shop.orders.order_price's, as for a quote. The order comes
    back with its lines attached, so showing it costs no query.
    """
    store = order_store()
    ordered = sorted(items)
    currency, goods = store.lock_and_read(currency_code=currency_code, goods_ids=ordered)
    missing = [g for g in ordered if g not in goods]
    if missing:
        raise goods_unavailable(missing)
    reserved = {g: goods[g].reserved for g in ordered}
    tracked = [g for g in ordered if goods[g].stock is not None]  # locked exclusively: may be written
    if holds_on() and tracked:
        reserved |= holds_refresh(goods_ids=tracked, except_cart=cart)
    short = stock_shortfalls(items, {g: stock_available(goods[g].stock, reserved[g]) for g in ordered})
    if short:
        raise insufficient_stock(short)
    take = {g: items[g] for g in tracked}  # rolled back with the rest should the order be refused below
    at, rate_id, rate, taken = store.clock_and_rate(currency_code=currency.code, take=take)
    stock_announce(taken)
    priced = order_price(
        items={g: items[g] for g in ordered}, goods=goods, rate=rate, decimals=currency.decimals
    )
    sums = priced.sums
    if max_order_sum is not None and sums.order_sum > max_order_sum:
        raise Conflict(
            ORDER_SUM_TOO_HIGH,
            code=OrderErrorCode.ORDER_SUM_TOO_HIGH,
            order_sum=format_amount(sums.order_sum, currency.decimals),
        )
    order = _order_of(user_id=user.pk, currency=currency, clocked=(at, rate_id, rate), priced=priced)
    order.user = user
    order, order.lines = store.insert(order, order.lines)
    order.history = []  # a new order has moved nowhere yet
    event_emit(kind=EventType.ORDER_CREATED, subject=order)
    order_email_schedule(kind=OrderEmail.PLACED, order_id=order.pk)
    return order


def _order_of(
    *, user_id: int, currency: Currency, clocked: tuple[datetime, int, Decimal], priced: OrderPrice
) -> Order:
    """The order (unsaved, with its ``lines``) of ``priced`` at the frozen clock and rate."""
    at, rate_id, rate = clocked
    sums = priced.sums
    order = Order(
        user_id=user_id,
        status=Order.Status.PLACED,
        created_at=at,
        currency=currency,
        rate_id=rate_id,
        exchange_rate=rate,
        subtotal=sums.subtotal,
        markup=sums.markup,
        fee=sums.fee,
        total=sums.total,
        order_sum=sums.order_sum,
    )
    order.lines = [
        OrderLine(
            goods_id=line.goods.id,
            goods_name=line.goods.name,
            quantity=line.quantity,
            price_id=line.goods.price_id,
            unit_price=line.goods.price,
            line_total=line.line_total,
            stock_taken=0 if line.goods.stock is None else line.quantity,
        )
        for line in priced.lines
    ]
    return order


@dataclass(frozen=True)
class LimitOrder:
    """An order of one goods to be placed only at or below ``max_unit_price``, the unit price in
    the order currency (a standing order's fill, SPEC §15); ``key`` is the caller's name for it."""

    key: int
    user_id: int
    goods: int
    quantity: int
    max_unit_price: Decimal


def orders_place_limited(*, currency_code: str, wanted: Sequence[LimitOrder]) -> dict[int, Order]:
    """Place, inside the caller's transaction, each of ``wanted`` whose unit price, as the order
    freezes it, is at most its limit and whose goods have the units: key -> the order placed.
    The others are not placed (and take nothing).

    The same placement as :func:`order_place`, for many orders at once: the goods locked in id
    order and the currency, then the clock and the rate read once, so every order holds the
    prices and rate current at its created_at (SPEC §4); the same pricing (order_price), stock
    rule, events and e-mails. The limit is checked against the price this snapshot froze, never
    against the price that made the caller ask: a newer one may stand by now. The per-shopper
    order throttle is the API's and does not apply.
    """
    if not wanted:
        return {}
    store = order_store()
    currency, goods = store.lock_and_read(
        currency_code=currency_code, goods_ids=sorted({w.goods for w in wanted})
    )
    tracked = sorted(g for g in goods if goods[g].stock is not None)
    reserved = {g: goods[g].reserved for g in tracked}
    if holds_on() and tracked:
        reserved |= holds_refresh(goods_ids=tracked, except_cart=None)
    at, rate_id, rate, _ = store.clock_and_rate(currency_code=currency.code, take={})
    left = {g: stock_available(goods[g].stock, reserved[g]) or 0 for g in tracked}
    accepted = []
    for order in wanted:
        found = goods.get(order.goods)
        if (
            found is None
            or convert(found.price, rate=rate, decimals=currency.decimals) > order.max_unit_price
        ):
            continue
        if order.goods in left:
            if left[order.goods] < order.quantity:
                continue
            left[order.goods] -= order.quantity
        accepted.append(order)
    take: dict[int, int] = {}
    for order in accepted:
        if order.goods in left:
            take[order.goods] = take.get(order.goods, 0) + order.quantity
    if take:
        stock_announce(stock_store().move({g: -units for g, units in take.items()}))
    orders = [
        _order_of(
            user_id=order.user_id,
            currency=currency,
            clocked=(at, rate_id, rate),
            priced=order_price(
                items={order.goods: order.quantity}, goods=goods, rate=rate, decimals=currency.decimals
            ),
        )
        for order in accepted
    ]
    placed = store.insert_many(orders)
    for new in placed:
        new.history = []  # new orders have moved nowhere yet
    # Announced and mailed as any order is, all at once: one look-up of the webhook endpoints,
    # one e-mail task.
    event_emit(kind=EventType.ORDER_CREATED, subject=Each(tuple(placed)))
    order_emails_schedule(kind=OrderEmail.PLACED, order_ids=[new.pk for new in placed])
    return {wanted_order.key: new for wanted_order, new in zip(accepted, placed, strict=True)}


def order_create(
    *,
    user: User,
    currency_code: str,
    items: Iterable[tuple[int, int]],
    max_order_sum: Decimal | None = None,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    """Place an order for ``items`` ((goods id, quantity) pairs) in ``currency_code``, at most
    once per (user, Idempotency-Key)."""
    merged = merge_items(items)
    # order_place() checks that the currency is active, under its lock; with an Idempotency-Key
    # it is checked first as well, so that an unknown currency is a 400 before any earlier order
    # with that key is replayed or its body compared.
    code = (
        currency_active_get(code=currency_code).code
        if idempotency_key
        else currency_code_clean(currency_code)
    )
    key = idempotency_key_clean(idempotency_key)
    request = {"order": sorted(merged.items()), "currency": code, "max": max_order_sum}
    with transaction.atomic():
        earlier = idempotency_claim(user=user, key=key, request=request)
        if earlier is not None:
            return PlacedOrder(order=earlier, replayed=True)
        order = order_place(user=user, currency_code=code, items=merged, max_order_sum=max_order_sum)
        idempotency_bind(user=user, key=key, order=order)
    return PlacedOrder(order=order, replayed=False)
