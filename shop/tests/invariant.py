"""SPEC §4's consistency invariant checked over every stored order: for the tests and bench/."""

from django.db import connection

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
