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
