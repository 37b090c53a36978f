"""Demand for the ``demand`` pricing strategy (SPEC §14): units ordered per goods since a moment.

Orders sit above the catalog (STYLE: data flows one way), so the catalog does not read them:
the orders app registers its counter here when it starts (OrdersConfig.ready), and a tick asks
this module. Without one registered, nothing has been ordered.
"""

from collections.abc import Callable
from datetime import datetime

# since -> goods id -> units in orders, not cancelled, created at or after ``since``.
DemandCounter = Callable[[datetime], dict[int, int]]

_counters: list[DemandCounter] = []


def demand_counter_register(counter: DemandCounter) -> None:
    """Count demand with ``counter`` (one counter: a second registration replaces the first)."""
    _counters[:] = [counter]


def demand_units(*, since: datetime) -> dict[int, int]:
    """Goods id -> units ordered since ``since`` (goods nobody ordered are left out)."""
    return _counters[0](since) if _counters else {}
