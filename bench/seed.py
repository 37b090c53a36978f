"""Seeding large data sets with set-based SQL (the bench database only)."""

from decimal import Decimal

from django.db import connection

from shop.catalog.models import Sale
from shop.catalog.services.sales import sale_reprice


def demo_currencies() -> None:
    from shop.currency.models import Currency
    from shop.ops.demo import CURRENCIES, currency_create, rate_create

    for code, name, symbol, decimals, rate in CURRENCIES:
        if not Currency.objects.filter(code=code).exists():
            currency_create(code=code, name=name, symbol=symbol, decimals=decimals)
            if code != "USD":
                rate_create(currency_code=code, rate=rate, source="manual")


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_price, catalog_tick, catalog_sale_goods, catalog_sale, "
            "orders_orderline, orders_order, orders_cartitem, orders_cart, orders_idempotencykey, "
            "catalog_goods RESTART IDENTITY CASCADE"
        )


def goods_in_sale(count: int, *, min_price: str = "10.00", max_price: str = "99.99") -> Sale:
    """``count`` priced goods in one running sale (and the demo currencies)."""
    reset()
    demo_currencies()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_goods (name, description, is_active, created_at) "
            "SELECT 'Goods ' || n, '', true, now() FROM generate_series(1, %s) AS n",
            [count],
        )
    sale = Sale.objects.create(name="bench", min_price=Decimal(min_price), max_price=Decimal(max_price))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_sale_goods (sale_id, goods_id) SELECT %s, id FROM catalog_goods", [sale.id]
        )
    sale_reprice(sale=sale, source="manual")  # every goods gets a real current price
    with connection.cursor() as cursor:  # planner statistics, as autovacuum would gather them
        cursor.execute("ANALYZE catalog_goods, catalog_sale_goods, catalog_sale")
    return sale


def orders_in_window(count: int, *, goods: int) -> None:
    """``count`` placed orders of one line each, created now, spread over goods 1 to ``goods``:
    the demand a ``demand`` sale's tick counts (its window holds them all)."""
    from shop.accounts.models import User
    from shop.currency.models import ExchangeRate

    user, _ = User.objects.get_or_create(email="demand@example.com", defaults={"is_active": True})
    rate = ExchangeRate.objects.filter(currency_id="USD").latest("valid_from")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_order (user_id, status, created_at, currency_id, rate_id, exchange_rate, "
            "subtotal, markup, fee, total, order_sum, payment_method, payment_reference) "
            "SELECT %s, 'placed', now(), 'USD', %s, 1, 10, 3, 10.10, 23.10, 23.10, '', '' "
            "FROM generate_series(1, %s)",
            [user.pk, rate.pk, count],
        )
        cursor.execute(
            "INSERT INTO orders_orderline (order_id, goods_id, goods_name, quantity, price_id, unit_price, "
            "line_total, stock_taken) "
            "SELECT o.id, 1 + (o.id %% %s), 'Goods', 1 + (o.id %% 3), 0, 10, 10, 0 FROM orders_order o",
            [goods],
        )
        cursor.execute("ANALYZE orders_order, orders_orderline")
