"""SPEC §4's consistency invariant and SPEC §13's stock invariant, checked over every stored order:
for the tests and bench/."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.db import connection, transaction

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


# For each goods asked about: its stock (NULL when not tracked) and the units that orders not
# cancelled hold of it. One statement, so one snapshot: both sides are read at the same moment.
STOCK_SQL = """
SELECT g.id, g.stock, COALESCE((
    SELECT sum(l.stock_taken) FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
    WHERE l.goods_id = g.id AND o.status <> 'cancelled'), 0)
FROM catalog_goods g
WHERE g.id = ANY(%s)
"""


def stock_invariant_violations(supplied: Mapping[int, int]) -> dict[int, tuple[int, int | None, int]]:
    """Goods breaking SPEC §13's stock invariant; empty when it holds.

    ``supplied`` maps each tracked goods id to the units the shop was given of it: its initial
    stock plus every unit staff added since (negative corrections included). The database keeps
    no ledger of those, so the caller, who set the stock and made the adds, knows them. The
    invariant: ``supplied == stock + units taken by orders that are not cancelled`` (the sum of
    their lines' ``stock_taken``). A breach comes back as goods id -> (supplied, stock,
    units in orders); a goods that is unknown or no longer tracked is a breach too (stock None).

    The check reads in one statement, hence one snapshot: safe to call while orders are placed
    and cancelled. Call it inside a REPEATABLE READ transaction to read more in that same
    snapshot (``stock_snapshot``).
    """
    with connection.cursor() as cursor:
        cursor.execute(STOCK_SQL, [list(supplied)])
        found = {goods_id: (stock, int(held)) for goods_id, stock, held in cursor.fetchall()}
    breaches = {}
    for goods_id, units in supplied.items():
        stock, held = found.get(goods_id, (None, 0))
        if stock is None or stock + held != units:
            breaches[goods_id] = (units, stock, held)
    return breaches


@contextmanager
def stock_snapshot() -> Iterator[None]:
    """A read-only REPEATABLE READ transaction on this thread's connection: every read inside it
    sees the database as of its first statement (the stock and the orders of one moment)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
