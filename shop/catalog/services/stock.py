"""Stock (SPEC §13): staff set or move it; orders take and return it.

Every move runs with the goods' rows locked, in goods id order (the order every writer of goods
rows locks them in: price writers, order placement), and is announced after its transaction
commits (StockEvent.CHANGED: the live feed shows the new ``available``).
"""

from collections.abc import Collection, Mapping

from django.db import transaction

from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Goods
from shop.catalog.stock_store import StockRow, stock_store
from shop.core.errors import Conflict, ValidationError
from shop.core.events import StockEvent, event_emit

MAX_STOCK = 1_000_000_000  # units of one goods (the column is a 32-bit integer)
STOCK_NOT_NEGATIVE = f"Stock is a whole number of units from 0 to {MAX_STOCK} (or null: not tracked)."
STOCK_BELOW_ZERO = f"This would take the stock below 0 (or above {MAX_STOCK}); nothing was changed."
STOCK_NOT_TRACKED = "This goods' stock is not tracked; set it first."
INSUFFICIENT_STOCK = "Not enough of these goods in stock; nothing was ordered."


def insufficient_stock(short: Mapping[int, int]) -> Conflict:
    """409 naming each goods short and how many of it are available (SPEC §13)."""
    return Conflict(
        INSUFFICIENT_STOCK,
        code=CatalogErrorCode.INSUFFICIENT_STOCK,
        goods=[{"goods": goods_id, "available": available} for goods_id, available in sorted(short.items())],
    )


def stock_announce(rows: list[StockRow]) -> None:
    """Announce these levels once the caller's transaction commits."""
    if rows:
        transaction.on_commit(lambda: event_emit(kind=StockEvent.CHANGED, subject=rows))


def _locked(goods: Goods) -> Goods:
    return Goods.objects.select_for_update(no_key=True).get(pk=goods.pk)


def stock_check(stock: int) -> int:
    """400 unless ``stock`` is a count of units staff may set."""
    if not 0 <= stock <= MAX_STOCK:
        raise ValidationError(STOCK_NOT_NEGATIVE, code=CatalogErrorCode.STOCK_BELOW_ZERO)
    return stock


@transaction.atomic
def goods_stock_set(*, goods: Goods, stock: int | None) -> Goods:
    """Set the units in stock (None: stop tracking them)."""
    if stock is not None:
        stock_check(stock)
    locked = _locked(goods)
    if locked.stock != stock:
        Goods.objects.filter(pk=goods.pk).update(stock=stock)
        locked.refresh_from_db(fields=["stock", "reserved", "version"])
        stock_announce([StockRow(locked.pk, locked.stock, locked.reserved, locked.version)])
    return locked


@transaction.atomic
def goods_stock_add(*, goods: Goods, add: int) -> Goods:
    """Move the stock by ``add`` units (a delivery, or a correction when negative), never below 0:
    409 and nothing changed otherwise."""
    locked = _locked(goods)
    if locked.stock is None:
        raise Conflict(STOCK_NOT_TRACKED, code=CatalogErrorCode.STOCK_NOT_TRACKED)
    if not 0 <= locked.stock + add <= MAX_STOCK:
        raise Conflict(STOCK_BELOW_ZERO, code=CatalogErrorCode.STOCK_BELOW_ZERO, stock=locked.stock)
    stock_move(deltas={locked.pk: add})
    locked.refresh_from_db(fields=["stock", "reserved", "version"])
    return locked


def stock_move(*, deltas: Mapping[int, int]) -> list[StockRow]:
    """Move the stock of the tracked goods among ``deltas`` (goods id -> units, negative to take),
    inside the caller's transaction, which holds those rows locked and has checked that no count
    goes below zero (the database refuses it otherwise: CHECK goods_stock_not_negative)."""
    rows = stock_store().move(deltas)
    stock_announce(rows)
    return rows


def stock_reserved_set(*, reserved: Mapping[int, int]) -> list[StockRow]:
    """Record the units cart reservations hold of these goods (goods id -> units), inside the
    caller's transaction, which holds those rows locked (shop.orders.services.holds)."""
    rows = stock_store().set_reserved(reserved)
    stock_announce(rows)
    return rows


def goods_lock(*, goods_ids: Collection[int]) -> None:
    """Lock these goods' rows for this transaction, in id order, as every writer of goods does."""
    list(
        Goods.objects.select_for_update(no_key=True).filter(pk__in=goods_ids).order_by("id").values_list("id")
    )
