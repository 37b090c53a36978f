"""Stock (SPEC §13): what can be ordered of a goods whose units are counted."""

from collections.abc import Mapping


def stock_available(stock: int | None, reserved: int) -> int | None:
    """``available``: the stock less the units held by cart reservations, never below 0 (staff may
    count the stock down below what is held); None when the goods' stock is not tracked."""
    return None if stock is None else max(stock - reserved, 0)


def stock_shortfalls(wanted: Mapping[int, int], available: Mapping[int, int | None]) -> dict[int, int]:
    """Goods id -> units available, for every goods of ``wanted`` (goods id -> quantity) that
    tracks stock (``available`` not None) and has fewer than wanted; empty when the order can be
    taken whole."""
    return {
        goods_id: units
        for goods_id, quantity in wanted.items()
        if (units := available.get(goods_id)) is not None and units < quantity
    }
