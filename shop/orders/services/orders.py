"""Placing orders: one consistent snapshot of prices and rate (SPEC §4)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction

from shop.accounts.models import User
from shop.catalog.selectors import OrderableGoods, goods_orderable, goods_orderable_get
from shop.core.db import db_now
from shop.core.errors import Conflict, ValidationError
from shop.core.events import EventType, event_emit
from shop.currency.models import Currency
from shop.currency.selectors import (
    currency_active_get,
    currency_code_clean,
    currency_unknown,
    rate_active,
    rate_missing,
)
from shop.domain.money import format_amount
from shop.domain.orders import MAX_ORDER_LINES, MAX_QUANTITY, quantity_allowed
from shop.orders.errors import OrderErrorCode
from shop.orders.models import Order, OrderLine
from shop.orders.pricing import order_price
from shop.orders.services.idempotency import idempotency_bind, idempotency_claim, idempotency_key_clean

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


# PostgreSQL, one round trip each. LOCK_SQL: the currency and then the goods, FOR SHARE,
# returning what the order needs of them (one row per goods; goods columns NULL when none
# exists; no row at all when the currency is unknown or inactive).
LOCK_SQL = """
WITH currency AS MATERIALIZED (
    SELECT code, name, symbol, decimals FROM currency_currency
    WHERE code = %(currency)s AND is_active
    FOR SHARE
)
SELECT currency.code, currency.name, currency.symbol, currency.decimals,
       goods.id, goods.name, goods.is_active, goods.price, goods.current_price_id
FROM currency LEFT JOIN LATERAL (
    SELECT id, name, is_active, price, current_price_id FROM catalog_goods
    WHERE id = ANY(string_to_array(%(goods)s, ',')::bigint[]) ORDER BY id
    FOR SHARE
) AS goods ON true
"""
# The clock, read once after the locks are held, and the rate active at that instant.
CLOCK_AND_RATE_SQL = """
WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS at)
SELECT clock.at, rate.id, rate.rate
FROM clock LEFT JOIN LATERAL (
    SELECT id, rate FROM currency_exchangerate
    WHERE currency_id = %(currency)s AND valid_from <= clock.at
    ORDER BY valid_from DESC, id DESC LIMIT 1
) AS rate ON true
"""
# The order and its lines in one statement; lines come in goods order, so their ids do too.
# Ids travel as one "1,2,3" string and lines as one JSON text: psycopg spends more on
# adapting a list, element by element, than the database spends on the whole statement.
INSERT_SQL = """
WITH new_order AS (
    INSERT INTO orders_order
        (user_id, status, created_at, currency_id, rate_id, exchange_rate, subtotal, markup, fee, total, order_sum)
    VALUES (%(user)s, %(status)s, %(at)s, %(currency)s, %(rate_id)s, %(rate)s, %(subtotal)s, %(markup)s, %(fee)s,
            %(total)s, %(order_sum)s)
    RETURNING id
), new_lines AS (
    INSERT INTO orders_orderline (order_id, goods_id, goods_name, quantity, price_id, unit_price, line_total)
    SELECT new_order.id, line.goods, line.name, line.quantity, line.price_id, line.price, line.total
    FROM new_order, jsonb_to_recordset(%(lines)s::jsonb)
        AS line(goods bigint, name text, quantity integer, price_id bigint, price numeric, total numeric)
    ORDER BY line.goods
    RETURNING id, goods_id
)
SELECT (SELECT id FROM new_order), array(SELECT id FROM new_lines ORDER BY goods_id)
"""


class _LockedGoods(NamedTuple):
    """A goods row as LOCK_SQL returns it: what goods_orderable reads."""

    id: int
    name: str
    is_active: bool
    price: Decimal | None
    current_price_id: int | None


def _lock_and_read(*, currency_code: str, goods_ids: list[int]) -> tuple[Currency, dict[int, OrderableGoods]]:
    """Lock the currency and the goods FOR SHARE and read them: the active currency (400 when
    unknown or inactive) and the orderable goods among ``goods_ids``."""
    if connection.vendor != "postgresql":  # SQLite (embedded mode) serialises writers anyway
        return currency_active_get(code=currency_code), goods_orderable_get(goods_ids=goods_ids)
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, {"currency": currency_code, "goods": ",".join(map(str, goods_ids))})
        rows = cursor.fetchall()
    if not rows:
        raise currency_unknown(currency_code)
    code, name, symbol, decimals = rows[0][:4]
    currency = Currency(code=code, name=name, symbol=symbol, decimals=decimals, is_active=True)
    currency._state.adding, currency._state.db = False, connection.alias
    found = (goods_orderable(_LockedGoods(*row[4:9])) for row in rows if row[4] is not None)
    return currency, {goods.id: goods for goods in found if goods is not None}


def _clock_and_rate(*, currency_code: str) -> tuple[datetime, int, Decimal]:
    """The database clock now and the id and value of the rate active at that instant."""
    if connection.vendor != "postgresql":
        at = db_now()
        rate = rate_active(currency_code=currency_code, at=at)
        return at, rate.id, rate.rate
    with connection.cursor() as cursor:
        cursor.execute(CLOCK_AND_RATE_SQL, {"currency": currency_code})
        at, rate_id, rate = cursor.fetchone()
    if rate_id is None:
        raise rate_missing()
    return at, rate_id, rate


def _insert(order: Order, lines: list[OrderLine]) -> None:
    """Write the order and its lines (in goods order); sets their ids."""
    if connection.vendor != "postgresql":
        order.save(force_insert=True)
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL,
            {
                "user": order.user_id,
                "status": order.status,
                "at": order.created_at,
                "currency": order.currency_id,
                "rate_id": order.rate_id,
                "rate": order.exchange_rate,
                "subtotal": order.subtotal,
                "markup": order.markup,
                "fee": order.fee,
                "total": order.total,
                "order_sum": order.order_sum,
                "lines": json.dumps(
                    [
                        {
                            "goods": line.goods_id,
                            "name": line.goods_name,
                            "quantity": line.quantity,
                            "price_id": line.price_id,
                            "price": str(line.unit_price),
                            "total": str(line.line_total),
                        }
                        for line in lines
                    ]
                ),
            },
        )
        order_id, line_ids = cursor.fetchone()
    order.id = order_id
    order._state.adding, order._state.db = False, connection.alias
    for line, line_id in zip(lines, line_ids, strict=True):
        line.id, line.order = line_id, order
        line._state.adding, line._state.db = False, connection.alias


def order_place(
    *, user: User, currency_code: str, items: dict[int, int], max_order_sum: Decimal | None
) -> Order:
    """Freeze prices and rate and write the order; inside the caller's transaction.

    Consistency invariant (SPEC §4): every line holds the goods' price with the
    greatest created_at <= the order's created_at, and the order the rate with
    the greatest valid_from <= it. Price writers lock goods FOR UPDATE and rate
    writers lock the currency FOR UPDATE before they read the clock
    (shop.catalog.services.prices). Here the currency and the goods are locked
    FOR SHARE first and the clock is read after, in the next statement: a
    writer that committed before our lock has an older timestamp and is visible
    to the statements after it (a row locked FOR SHARE is read in its newest
    committed version); a writer that comes after us waits for our commit and
    gets a newer timestamp. That holds under READ COMMITTED, where each
    statement takes a new snapshot, and does not rely on now(), which is the
    transaction's start.

    Three statements on PostgreSQL: lock and read; clock and rate; insert the
    order with its lines. What it costs is shop.orders.pricing's, as for a
    quote. The order comes back with its lines attached, so showing it costs
    no query.
    """
    ordered = sorted(items)
    currency, goods = _lock_and_read(currency_code=currency_code, goods_ids=ordered)
    missing = [g for g in ordered if g not in goods]
    if missing:
        raise goods_unavailable(missing)
    at, rate_id, rate = _clock_and_rate(currency_code=currency.code)
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
    order = Order(
        user=user,
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
    lines = [
        OrderLine(
            goods_id=line.goods.id,
            goods_name=line.goods.name,
            quantity=line.quantity,
            price_id=line.goods.price_id,
            unit_price=line.goods.price,
            line_total=line.line_total,
        )
        for line in priced.lines
    ]
    _insert(order, lines)
    # Prefetched, as Order.objects.prefetch_related("items") would: the answer reads no row.
    order._prefetched_objects_cache = {"items": lines}  # type: ignore[attr-defined]
    event_emit(kind=EventType.ORDER_CREATED, subject=order)
    return order


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
