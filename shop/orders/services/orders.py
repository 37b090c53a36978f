"""Placing orders: one consistent snapshot of prices and rate (SPEC §4)."""

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import cast

from django.db import IntegrityError, transaction

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.core.db import db_now, lock_for_share
from shop.core.errors import Conflict, Unprocessable, ValidationError
from shop.core.events import EventType, event_emit
from shop.currency.models import Currency
from shop.currency.selectors import currency_active_get, rate_active
from shop.domain.money import format_amount
from shop.domain.orders import Line
from shop.orders.models import MAX_ORDER_LINES, MAX_QUANTITY, IdempotencyKey, Order, OrderLine
from shop.orders.selectors import order_sum_of

NO_ITEMS = "An order needs at least one item."
QUANTITY_RANGE = f"Quantities are whole numbers from 1 to {MAX_QUANTITY}."
GOODS_UNAVAILABLE = "These goods cannot be ordered (unknown, inactive or without a price)."
ORDER_SUM_TOO_HIGH = "The order sum is higher than max_order_sum; nothing was ordered."
IDEMPOTENCY_KEY_REUSED = "This Idempotency-Key was used with a different request."
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_INVALID = "An Idempotency-Key is 1 to 255 printable ASCII characters."
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")
TOO_MANY_LINES = f"An order has at most {MAX_ORDER_LINES} different goods."


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool  # True when an Idempotency-Key returned an earlier order


def merge_items(items: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Goods id -> quantity; the same goods twice in one request is merged into one line."""
    merged: dict[int, int] = {}
    for goods_id, quantity in items:
        merged[goods_id] = merged.get(goods_id, 0) + quantity
    if not merged:
        raise ValidationError(NO_ITEMS, code="no_items")
    if len(merged) > MAX_ORDER_LINES:
        raise ValidationError(TOO_MANY_LINES, code="too_many_lines")
    if any(not 1 <= quantity <= MAX_QUANTITY for quantity in merged.values()):
        raise ValidationError(QUANTITY_RANGE, code="quantity_range")
    return merged


def fingerprint(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _claim_key(*, user: User, key: str, print_: str) -> Order | None:
    """Record (user, key), or return the order an earlier request with it placed.

    The INSERT runs first: a concurrent request with the same key blocks on the
    unique index until the first one commits (then it gets IntegrityError and
    reads that order) or rolls back (then it goes ahead itself).
    """
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=db_now() - IDEMPOTENCY_WINDOW).delete()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=user, key=key, fingerprint=print_)
            return None
    except IntegrityError:
        earlier = IdempotencyKey.objects.select_related("order").get(user=user, key=key)
    if earlier.fingerprint != print_:
        raise Unprocessable(IDEMPOTENCY_KEY_REUSED, code="idempotency_key_reused")
    assert earlier.order is not None  # noqa: S101 - set in the same transaction as the key
    return earlier.order


def place(*, user: User, currency: Currency, items: dict[int, int], max_order_sum: Decimal | None) -> Order:
    """Freeze prices and rate and write the order; inside the caller's transaction.

    Consistency invariant (SPEC §4): every line holds the goods' price with the
    greatest created_at <= the order's created_at, and the order the rate with
    the greatest valid_from <= it. Price writers lock goods FOR UPDATE and rate
    writers lock the currency FOR UPDATE before they read the clock
    (shop.catalog.services.prices). Here the goods and the currency are locked
    FOR SHARE first and the clock is read after: a writer that committed before
    our lock has an older timestamp and is visible to the statements below; a
    writer that comes after us waits for our commit and gets a newer
    timestamp. That holds under READ COMMITTED, where each statement takes a
    new snapshot, and does not rely on now(), which is the transaction's start.
    """
    lock_for_share(Goods, items)
    lock_for_share(Currency, [currency.code])
    at = db_now()
    goods = {g.id: g for g in Goods.objects.filter(id__in=items, is_active=True, price__isnull=False)}
    missing = sorted(set(items) - set(goods))
    if missing:
        raise ValidationError(GOODS_UNAVAILABLE, code="goods_unavailable", goods=missing)
    rate = rate_active(currency_code=currency.code, at=at)
    ordered = sorted(items)
    # (price id, unit price) per goods; the query above kept only goods with a price
    current = {g: (cast(int, goods[g].current_price_id), cast(Decimal, goods[g].price)) for g in ordered}
    sums = order_sum_of(
        [Line(current[g][1], items[g]) for g in ordered],
        rate=rate.rate,
        decimals=currency.decimals,
    )
    if max_order_sum is not None and sums.order_sum > max_order_sum:
        raise Conflict(
            ORDER_SUM_TOO_HIGH,
            code="order_sum_too_high",
            order_sum=format_amount(sums.order_sum, currency.decimals),
        )
    order = Order.objects.create(
        user=user,
        created_at=at,
        currency=currency,
        rate=rate,
        exchange_rate=rate.rate,
        subtotal=sums.subtotal,
        markup=sums.markup,
        fee=sums.fee,
        total=sums.total,
        order_sum=sums.order_sum,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                goods_id=g,
                goods_name=goods[g].name,
                quantity=items[g],
                price_id=current[g][0],
                unit_price=current[g][1],
                line_total=current[g][1] * items[g],
            )
            for g in ordered
        ]
    )
    return order


def place_once(
    *, user: User, idempotency_key: str | None, request: object, place: Callable[[], Order]
) -> PlacedOrder:
    """Run ``place`` in one transaction, at most once per (user, Idempotency-Key)."""
    if idempotency_key and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ValidationError(IDEMPOTENCY_KEY_INVALID, code="invalid_idempotency_key")
    with transaction.atomic():
        if idempotency_key:
            earlier = _claim_key(user=user, key=idempotency_key, print_=fingerprint(request))
            if earlier is not None:
                return PlacedOrder(order=earlier, replayed=True)
        order = place()
        if idempotency_key:
            IdempotencyKey.objects.filter(user=user, key=idempotency_key).update(order=order)
        event_emit(kind=EventType.ORDER_CREATED, subject=order)
    return PlacedOrder(order=order, replayed=False)


def order_create(
    *,
    user: User,
    currency_code: str,
    items: Iterable[tuple[int, int]],
    max_order_sum: Decimal | None = None,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    """Place an order for ``items`` ((goods id, quantity) pairs) in ``currency_code``."""
    merged = merge_items(items)
    currency = currency_active_get(code=currency_code)
    return place_once(
        user=user,
        idempotency_key=idempotency_key,
        request={"order": sorted(merged.items()), "currency": currency.code, "max": max_order_sum},
        place=lambda: place(user=user, currency=currency, items=merged, max_order_sum=max_order_sum),
    )
