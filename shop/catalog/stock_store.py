"""How goods' stock is moved (SPEC §13): one interface, a PostgreSQL and an ORM implementation.

The callers (shop.catalog.services.stock, for orders and staff) hold the goods' rows locked
when they move stock, and have checked what they take against what is there; the database's
CHECK (stock >= 0) backs that check, so no writer can leave a negative count behind.
"""

from collections.abc import Mapping
from typing import NamedTuple, Protocol

from django.db import connection
from django.db.models import F, QuerySet

from shop.catalog.models import Goods


class StockRow(NamedTuple):
    """A goods' stock as it stands after a move."""

    id: int
    stock: int | None
    reserved: int
    version: int


class StockStore(Protocol):
    def move(self, deltas: Mapping[int, int]) -> list[StockRow]:
        """Add each delta (negative: take) to the stock of its goods, for the goods that track
        stock; the rows of those goods as they are now, in goods id order."""

    def set_reserved(self, reserved: Mapping[int, int]) -> list[StockRow]:
        """Set the units held by cart reservations of these goods (goods id -> units); the rows
        of the goods where that changed, in goods id order."""


# One statement for every goods of an order: the tracked ones move, the others are left alone.
MOVE_SQL = """
UPDATE catalog_goods AS g SET stock = g.stock + d.delta
FROM unnest(%s::bigint[], %s::integer[]) AS d (id, delta)
WHERE g.id = d.id AND g.stock IS NOT NULL AND d.delta <> 0
RETURNING g.id, g.stock, g.reserved, g.version
"""


SET_RESERVED_SQL = """
UPDATE catalog_goods AS g SET reserved = r.units
FROM unnest(%s::bigint[], %s::integer[]) AS r (id, units)
WHERE g.id = r.id AND g.reserved <> r.units
RETURNING g.id, g.stock, g.reserved, g.version
"""


class _PostgresStockStore:
    def move(self, deltas: Mapping[int, int]) -> list[StockRow]:
        with connection.cursor() as cursor:
            cursor.execute(MOVE_SQL, [list(deltas), list(deltas.values())])
            return sorted(StockRow(*row) for row in cursor.fetchall())

    def set_reserved(self, reserved: Mapping[int, int]) -> list[StockRow]:
        with connection.cursor() as cursor:
            cursor.execute(SET_RESERVED_SQL, [list(reserved), list(reserved.values())])
            return sorted(StockRow(*row) for row in cursor.fetchall())


class _OrmStockStore:
    def move(self, deltas: Mapping[int, int]) -> list[StockRow]:
        for goods_id, delta in sorted(deltas.items()):
            if delta:
                Goods.objects.filter(pk=goods_id, stock__isnull=False).update(stock=F("stock") + delta)
        rows = Goods.objects.filter(pk__in=[g for g, d in deltas.items() if d], stock__isnull=False)
        return _rows(rows)

    def set_reserved(self, reserved: Mapping[int, int]) -> list[StockRow]:
        changed = [
            goods_id
            for goods_id, units in sorted(reserved.items())
            if Goods.objects.filter(pk=goods_id).exclude(reserved=units).update(reserved=units)
        ]
        return _rows(Goods.objects.filter(pk__in=changed))


def _rows(goods: "QuerySet[Goods]") -> list[StockRow]:
    return [StockRow(*row) for row in goods.order_by("id").values_list("id", "stock", "reserved", "version")]


_POSTGRES, _ORM = _PostgresStockStore(), _OrmStockStore()


def stock_store() -> StockStore:
    """The implementation for this thread's database connection."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
