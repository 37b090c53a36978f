"""A catalog of many goods for the storefront's tests, written in a few statements."""

from decimal import Decimal

from shop.catalog.models import Goods, Sale
from shop.catalog.services.prices import prices_record
from shop.tests.factories import SaleFactory


def catalog_create(count: int, *, name: str = "Goods", in_sale: bool = False) -> list[Goods]:
    """``count`` active goods named "<name> 00001"…, each with a price (1.00, 2.00, …);
    with ``in_sale``, all of them in one running sale that reprices them on every tick."""
    goods = Goods.objects.bulk_create(
        Goods(name=f"{name} {n:05d}", description=f"Item number {n} of the catalog.")
        for n in range(1, count + 1)
    )
    prices_record(amounts={g.id: Decimal(n) for n, g in enumerate(goods, start=1)}, source="manual")
    if in_sale:
        sale: Sale = SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("999.99"))
        assert sale.is_running
    return goods
