from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from shop.catalog.goods_store import GOODS_COLUMNS, goods_store
from shop.catalog.models import Goods
from shop.catalog.services.stock import goods_stock_set, stock_announce, stock_check
from shop.core.services import model_update

MAX_BULK_GOODS = 1000  # goods in one bulk create (one request)


@transaction.atomic
def goods_create(
    *, name: str, description: str = "", is_active: bool = True, stock: int | None = None
) -> Goods:
    if stock is not None:
        stock_check(stock)
    return Goods.objects.create(name=name, description=description, is_active=is_active, stock=stock)


@transaction.atomic
def goods_create_many(*, goods: Sequence[Mapping[str, Any]]) -> list[Goods]:
    """Create up to MAX_BULK_GOODS goods in one statement, all or nothing, in the order given
    (their ids ascend in that order): a catalog import."""
    return Goods.objects.bulk_create(
        [
            Goods(
                name=g["name"],
                description=g.get("description", ""),
                is_active=g.get("is_active", True),
                stock=stock_check(g["stock"]) if g.get("stock") is not None else None,
            )
            for g in goods
        ]
    )


@transaction.atomic
def goods_update(*, goods: Goods, data: Mapping[str, Any]) -> Goods:
    """Change what staff write of a goods; its price changes through prices_record only, its stock
    through goods_stock_set (the row locked, the change announced)."""
    goods, _ = model_update(instance=goods, fields=list(GOODS_COLUMNS), data=data)
    if "stock" in data:
        goods = goods_stock_set(goods=goods, stock=data["stock"])
    return goods


@transaction.atomic
def goods_update_many(*, goods: Sequence[Goods], stock: bool = False) -> None:
    """Write the name, description and is_active that these goods now hold (a catalog import);
    with ``stock``, their stock too, as goods_stock_set sets it: each a count staff may set
    (stock_check) or None (not tracked), the rows locked in goods id order before they are written
    (the caller may hold them already), and the goods whose stock changed announced once the
    transaction commits. The price columns are left alone: prices_record owns them."""
    if not goods:
        return
    before: dict[int, int | None] = {}
    if stock:
        for g in goods:
            if g.stock is not None:
                stock_check(g.stock)
        locked = Goods.objects.select_for_update(no_key=True).filter(pk__in=[g.pk for g in goods])
        before = dict(locked.order_by("id").values_list("id", "stock"))
    rows = goods_store().update_many(goods, stock=stock)
    if stock:
        stock_announce([row for row in rows if row.stock != before.get(row.id)])


@transaction.atomic
def goods_delete(*, goods: Goods) -> None:
    """Delete goods and their history; goods that were ordered are kept (409)."""
    goods.delete()
