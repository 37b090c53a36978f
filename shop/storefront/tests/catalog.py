"""A catalog of many goods for the storefront's tests, written in a few statements."""

import random
from datetime import timedelta
from decimal import Decimal

from shop.catalog.models import Goods, Price, Sale
from shop.catalog.services.prices import prices_record
from shop.tests.factories import SaleFactory


def catalog_create(
    count: int,
    *,
    name: str = "Goods",
    in_sale: bool = False,
    min_price: str = "1.00",
    max_price: str = "999.99",
) -> list[Goods]:
    """``count`` active goods named "<name> 00001"…, each with a price (1.00, 2.00, …);
    with ``in_sale``, all of them in one running sale that reprices them on every tick."""
    goods = Goods.objects.bulk_create(
        Goods(name=f"{name} {n:05d}", description=f"Item number {n} of the catalog.")
        for n in range(1, count + 1)
    )
    prices_record(amounts={g.id: Decimal(n) for n, g in enumerate(goods, start=1)}, source="manual")
    if in_sale:
        sale: Sale = SaleFactory(goods=goods, min_price=Decimal(min_price), max_price=Decimal(max_price))
        assert sale.is_running
    return goods


def history_seed(goods: Goods, *, hours: float, every_seconds: int = 30) -> int:
    """A random walk of older prices for ``goods``, ending before its current price
    (which stays the newest); returns how many were written."""
    goods.refresh_from_db()
    assert goods.price is not None and goods.price_updated_at is not None
    walk = random.Random(goods.id)  # test data
    amount = goods.price
    rows = []
    for step in range(1, int(hours * 3600 / every_seconds) + 1):
        amount = max(Decimal("1.00"), amount + Decimal(walk.randint(-120, 120)) / 100)
        at = goods.price_updated_at - timedelta(seconds=step * every_seconds)
        rows.append(Price(goods=goods, amount=amount, created_at=at, source=Price.Source.TICK))
    Price.objects.bulk_create(rows)
    return len(rows)
